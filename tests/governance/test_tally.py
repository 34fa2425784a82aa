"""Every voting type on worked examples (Snapshot's formulas), ties included. Pure functions: no database."""

import json
from decimal import Decimal

import pytest

from governance.tally import (
    InvalidChoice,
    accumulate,
    new_state,
    outcome,
    parse_choice,
    quorum_weight,
    scores_from_state,
    state_from_json,
    state_to_json,
    tally,
)

D = Decimal


def run(voting_type, choices, votes):
    ballots = [(parse_choice(voting_type, len(choices), json.dumps(c)), D(w)) for c, w in votes]
    return tally(voting_type, choices, ballots)


def approx(values):
    return [round(float(v), 6) for v in values]


def test_single_choice_sums_weights_per_choice():
    result = run("single-choice", ["A", "B", "C"], [(1, 10), (2, 5), (1, 3)])
    assert result.scores == [D(13), D(5), D(0)]
    assert result.total == D(18) and result.voters == 3
    assert outcome("single-choice", result.scores, result.total, D(0)) == ("passed", 1)


def test_single_choice_tie_at_the_top_rejects():
    result = run("single-choice", ["A", "B"], [(1, 7), (2, 7)])
    assert outcome("single-choice", result.scores, result.total, D(0)) == ("rejected", None)


def test_basic_for_and_abstain_count_toward_quorum():
    result = run("basic", ["For", "Against", "Abstain"], [(1, 10), (2, 50), (3, 20)])
    assert result.scores == [D(10), D(50), D(20)]
    assert quorum_weight("basic", result.scores, result.total) == D(30)
    assert outcome("basic", result.scores, result.total, D(30)) == ("rejected", None)
    assert outcome("basic", result.scores, result.total, D(31)) == ("quorum_not_met", None)


def test_basic_passes_when_for_outweighs_against_and_a_tie_rejects():
    passed = run("basic", ["For", "Against", "Abstain"], [(1, "60.5"), (2, "60.4")])
    assert outcome("basic", passed.scores, passed.total, D(60)) == ("passed", 1)
    tied = run("basic", ["For", "Against", "Abstain"], [(1, 5), (2, 5)])
    assert outcome("basic", tied.scores, tied.total, D(0)) == ("rejected", None)


def test_approval_gives_full_weight_to_every_approved_choice():
    result = run("approval", ["A", "B", "C"], [([1, 2], 10), ([2, 3], 5)])
    assert result.scores == [D(10), D(15), D(5)]
    assert result.total == D(15)


def test_weighted_splits_each_voters_weight_by_their_ratios():
    result = run("weighted", ["A", "B"], [({"1": 1, "2": 3}, 100), ({"2": 1}, 50)])
    assert result.scores == [D(25), D(125)]
    assert result.total == D(150)


def test_quadratic_favours_many_small_voters_over_one_whale():
    # sqrt sums: A = sqrt(9) = 3; B = sqrt(1) + sqrt(1) = 2 → 9 : 4 of the 11 cast.
    result = run("quadratic", ["A", "B"], [({"1": 1}, 9), ({"2": 1}, 1), ({"2": 1}, 1)])
    assert approx(result.scores) == approx([D(11) * 9 / 13, D(11) * 4 / 13])
    assert sum(result.scores) == pytest.approx(11)


def test_quadratic_tie():
    # A = 3² = 9 ; B = (1 + 2)² = 9 → an even split of the 14 cast.
    result = run("quadratic", ["A", "B"], [({"1": 1}, 9), ({"2": 1}, 1), ({"2": 1}, 4)])
    assert result.scores == [D(7), D(7)]
    assert outcome("quadratic", result.scores, result.total, D(0)) == ("rejected", None)


def test_ranked_choice_transfers_eliminated_votes():
    # Round 1: A 40, B 35, C 25 (D named first by nobody). C goes; its 25 move to B → B 60 wins.
    votes = [([1, 3, 2, 4], 40), ([2, 3, 1, 4], 35), ([3, 2, 1, 4], 25)]
    result = run("ranked-choice", ["A", "B", "C", "D"], votes)
    assert result.scores == [D(40), D(60), D(0), D(0)]
    assert outcome("ranked-choice", result.scores, result.total, D(0)) == ("passed", 2)


def test_ranked_choice_elimination_tie_drops_the_lowest_numbered_choice():
    votes = [([1, 3, 2], 30), ([2, 1, 3], 40), ([3, 1, 2], 30)]
    result = run("ranked-choice", ["A", "B", "C"], votes)
    assert result.scores == [D(0), D(40), D(60)]


def test_ranked_choice_majority_in_first_round_stops():
    result = run("ranked-choice", ["A", "B", "C"], [([1, 2, 3], 51), ([2, 3, 1], 30), ([3, 2, 1], 19)])
    assert result.scores == [D(51), D(30), D(19)]


def test_ranked_choice_two_way_tie_stops_and_rejects():
    result = run("ranked-choice", ["A", "B"], [([1, 2], 50), ([2, 1], 50)])
    assert result.scores == [D(50), D(50)]
    assert outcome("ranked-choice", result.scores, result.total, D(0)) == ("rejected", None)


def test_copeland_pairwise_wins_share_the_voting_power():
    # A beats B (60:40) and C (60:40); B beats C (60:40): points A 4, B 2, C 0 of 6.
    result = run("copeland", ["A", "B", "C"], [([1, 2, 3], 60), ([3, 2, 1], 40)])
    assert approx(result.scores) == approx([D(100) * 4 / 6, D(100) * 2 / 6, 0])
    assert outcome("copeland", result.scores, result.total, D(0)) == ("passed", 1)


def test_copeland_condorcet_cycle_is_a_three_way_tie():
    result = run("copeland", ["A", "B", "C"], [([1, 2, 3], 40), ([2, 3, 1], 35), ([3, 1, 2], 25)])
    assert result.scores[0] == result.scores[1] == result.scores[2]
    assert outcome("copeland", result.scores, result.total, D(0)) == ("rejected", None)


def test_copeland_pairwise_tie_gives_half_points_each():
    result = run("copeland", ["A", "B"], [([1, 2], 50), ([2, 1], 50)])
    assert result.scores == [D(50), D(50)]


def test_no_votes_with_a_quorum_is_quorum_not_met_and_without_is_rejected():
    result = run("single-choice", ["A", "B"], [])
    assert result.scores == [D(0), D(0)]
    assert outcome("single-choice", result.scores, result.total, D(1)) == ("quorum_not_met", None)
    assert outcome("single-choice", result.scores, result.total, D(0)) == ("rejected", None)


@pytest.mark.parametrize("voting_type", ["basic", "approval", "weighted", "quadratic", "ranked-choice", "copeland"])
def test_running_state_with_a_replaced_vote_equals_the_recount(voting_type):
    choices = ["For", "Against", "Abstain"]
    first = {"basic": 1, "approval": [1, 2], "weighted": {"1": 2, "3": 1}, "quadratic": {"1": 1, "2": 1},
             "ranked-choice": [1, 2, 3], "copeland": [1, 2, 3]}[voting_type]
    second = {"basic": 2, "approval": [3], "weighted": {"2": 1}, "quadratic": {"3": 5},
              "ranked-choice": [3, 2, 1], "copeland": [2, 3, 1]}[voting_type]
    other = {"basic": 3, "approval": [2], "weighted": {"1": 1}, "quadratic": {"2": 2},
             "ranked-choice": [2, 1, 3], "copeland": [3, 1, 2]}[voting_type]
    parse = lambda c: parse_choice(voting_type, 3, json.dumps(c))  # noqa: E731
    state = new_state(voting_type, 3)
    accumulate(voting_type, 3, state, parse(first), D("12.5"))
    accumulate(voting_type, 3, state, parse(other), D("7"))
    state = state_from_json(state_to_json(state))
    accumulate(voting_type, 3, state, parse(first), D("12.5"), sign=-1)  # the re-vote replaces it
    accumulate(voting_type, 3, state, parse(second), D("12.5"))
    recount = tally(voting_type, choices, [(parse(second), D("12.5")), (parse(other), D("7"))])
    assert approx(scores_from_state(voting_type, 3, state)) == approx(recount.scores)


@pytest.mark.parametrize(
    ("voting_type", "text", "sentence"),
    [
        ("basic", "4", "Choose exactly one option"),
        ("basic", "true", "Choose exactly one option"),
        ("single-choice", "[1]", "Choose exactly one option"),
        ("single-choice", "one", "not valid JSON"),
        ("approval", "[]", "Approve at least one option"),
        ("approval", "[1,1]", "at most once"),
        ("approval", "[0]", "must be a number between 1 and 3"),
        ("ranked-choice", "[1,2]", "Rank every option exactly once"),
        ("ranked-choice", "[1,1,2]", "Rank every option exactly once"),
        ("copeland", "{\"1\":1}", "Rank the options"),
        ("weighted", "[1]", "Split your weight"),
        ("weighted", "{\"4\":1}", "does not exist"),
        ("quadratic", "{\"1\":0}", "whole number above zero"),
        ("quadratic", "{\"1\":1.5}", "whole number above zero"),
    ],
)
def test_malformed_choices_are_refused_with_a_sentence(voting_type, text, sentence):
    with pytest.raises(InvalidChoice, match=sentence):
        parse_choice(voting_type, 3, text)
