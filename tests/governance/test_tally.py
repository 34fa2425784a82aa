"""Every voting type on worked examples (snapshot.js's formulas, worked by hand in the comments), ties included, and
the choice parser on hostile text. Pure: no database, no chain."""

import json
import string
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.voting import (
    METHODS,
    InvalidChoice,
    Outcome,
    TallyState,
    VotingType,
    amount_text,
    voting_method,
)
from portal.errors import Refusal

D = Decimal


def run(voting_type, choices, votes):
    method = voting_method(voting_type)
    ballots = [(method.parse(json.dumps(c), len(choices)), D(w)) for c, w in votes]
    return method.recount(choices, ballots)


def decide(voting_type, result, quorum=0):
    return voting_method(voting_type).decide(result.scores, result.total, D(quorum))


def approx(values):
    return [round(float(v), 6) for v in values]


def test_every_voting_type_has_one_object_and_the_stored_values_are_the_contract_strings():
    assert list(METHODS) == [
        "basic", "single-choice", "approval", "weighted", "quadratic", "ranked-choice", "copeland"
    ]
    assert all(METHODS[value].voting_type == value for value in VotingType.values)
    assert Outcome.values == ["passed", "rejected", "quorum_not_met"]


def test_an_unknown_voting_type_is_refused_with_a_sentence():
    with pytest.raises(Refusal, match="Unknown voting type 'plurality': choose one of basic, single-choice"):
        voting_method("plurality")


def test_single_choice_sums_weights_per_choice():
    result = run("single-choice", ["A", "B", "C"], [(1, 10), (2, 5), (1, 3)])
    assert result.scores == [D(13), D(5), D(0)]
    assert result.total == D(18) and result.voters == 3 and result.winner == 1
    assert decide("single-choice", result) == (Outcome.PASSED, 1)


def test_single_choice_tie_at_the_top_rejects():
    result = run("single-choice", ["A", "B"], [(1, 7), (2, 7)])
    assert decide("single-choice", result) == (Outcome.REJECTED, None)


def test_basic_for_and_abstain_count_toward_quorum():
    result = run("basic", ["For", "Against", "Abstain"], [(1, 10), (2, 50), (3, 20)])
    assert result.scores == [D(10), D(50), D(20)]
    assert voting_method("basic").quorum_weight(result.scores, result.total) == D(30)
    assert decide("basic", result, 30) == (Outcome.REJECTED, None)
    assert decide("basic", result, 31) == (Outcome.QUORUM_NOT_MET, None)


def test_basic_passes_when_for_outweighs_against_and_a_tie_rejects():
    passed = run("basic", ["For", "Against", "Abstain"], [(1, "60.5"), (2, "60.4")])
    assert decide("basic", passed, 60) == (Outcome.PASSED, 1)
    tied = run("basic", ["For", "Against", "Abstain"], [(1, 5), (2, 5)])
    assert decide("basic", tied) == (Outcome.REJECTED, None)


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
    assert decide("quadratic", result) == (Outcome.REJECTED, None)


def test_ranked_choice_transfers_eliminated_votes():
    # Round 1: A 40, B 35, C 25 (D named first by nobody). C goes; its 25 move to B → B 60 wins.
    votes = [([1, 3, 2, 4], 40), ([2, 3, 1, 4], 35), ([3, 2, 1, 4], 25)]
    result = run("ranked-choice", ["A", "B", "C", "D"], votes)
    assert result.scores == [D(40), D(60), D(0), D(0)]
    assert decide("ranked-choice", result) == (Outcome.PASSED, 2)


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
    assert decide("ranked-choice", result) == (Outcome.REJECTED, None)


def test_copeland_pairwise_wins_and_average_support_share_the_voting_power():
    # A beats B and C (60:40), B beats C (60:40): victory points A 4, B 2, C 0 (each pair counted from both sides).
    # Support (weight ranking it above an opponent): A 60×2 = 120, B 60 + 40 = 100, C 40×2 = 80; the tiebreak adds
    # ½ × support / (2 matchups × 100): A 0.3, B 0.25, C 0.2 → 4.3 : 2.25 : 0.2 of 6.75, times the 100 cast.
    result = run("copeland", ["A", "B", "C"], [([1, 2, 3], 60), ([3, 2, 1], 40)])
    assert approx(result.scores) == approx([D(100) * D("4.3") / D("6.75"), D(100) * D("2.25") / D("6.75"),
                                            D(100) * D("0.2") / D("6.75")])
    assert decide("copeland", result) == (Outcome.PASSED, 1)


def test_copeland_condorcet_cycle_is_decided_by_average_support_as_snapshot_does():
    # A>B 65:35, B>C 75:25, C>A 60:40: a cycle, 2 points each. Support: A 40×2 + 25 = 105, B 35×2 + 40 = 110,
    # C 25×2 + 35 = 85 → B leads by average support (snapshot.js ≥ 0.14.26 names B; the old formula tied).
    result = run("copeland", ["A", "B", "C"], [([1, 2, 3], 40), ([2, 3, 1], 35), ([3, 1, 2], 25)])
    points = [D(2) + D("0.5") * s / 200 for s in (105, 110, 85)]
    assert approx(result.scores) == approx([p / sum(points) * 100 for p in points])
    assert decide("copeland", result) == (Outcome.PASSED, 2)


def test_copeland_pairwise_tie_with_equal_support_stays_a_tie():
    result = run("copeland", ["A", "B"], [([1, 2], 50), ([2, 1], 50)])
    assert result.scores == [D(50), D(50)]
    assert decide("copeland", result) == (Outcome.REJECTED, None)


def test_no_votes_with_a_quorum_is_quorum_not_met_and_without_is_rejected():
    result = run("single-choice", ["A", "B"], [])
    assert result.scores == [D(0), D(0)]
    assert decide("single-choice", result, 1) == (Outcome.QUORUM_NOT_MET, None)
    assert decide("single-choice", result) == (Outcome.REJECTED, None)


@pytest.mark.parametrize("voting_type", VotingType.values)
def test_running_state_with_a_replaced_vote_equals_the_recount(voting_type):
    choices = ["For", "Against", "Abstain"]
    first = {"basic": 1, "single-choice": 3, "approval": [1, 2], "weighted": {"1": 2, "3": 1},
             "quadratic": {"1": 1, "2": 1}, "ranked-choice": [1, 2, 3], "copeland": [1, 2, 3]}[voting_type]
    second = {"basic": 2, "single-choice": 1, "approval": [3], "weighted": {"2": 1}, "quadratic": {"3": 5},
              "ranked-choice": [3, 2, 1], "copeland": [2, 3, 1]}[voting_type]
    other = {"basic": 3, "single-choice": 2, "approval": [2], "weighted": {"1": 1}, "quadratic": {"2": 2},
             "ranked-choice": [2, 1, 3], "copeland": [3, 1, 2]}[voting_type]
    method = voting_method(voting_type)
    parse = lambda c: method.parse(json.dumps(c), 3)  # noqa: E731
    state = method.empty(3)
    method.fold(state, parse(first), D("12.5"))
    method.fold(state, parse(other), D("7"))
    state = TallyState.from_json(json.loads(json.dumps(state.to_json())))  # as stored between votes
    method.fold(state, parse(first), D("12.5"), sign=-1)  # the re-vote replaces it
    method.fold(state, parse(second), D("12.5"))
    recount = method.recount(choices, [(parse(second), D("12.5")), (parse(other), D("7"))])
    assert method.scores(state, 3) == recount.scores
    assert state.total == recount.total


@pytest.mark.parametrize(
    ("voting_type", "text", "sentence"),
    [
        ("basic", "4", "Choose exactly one option"),
        ("basic", "true", "Choose exactly one option"),
        ("single-choice", "[1]", "Choose exactly one option"),
        ("single-choice", "one", "not valid JSON"),
        ("single-choice", "²", "“²” is not one of them"),
        ("approval", "[]", "Approve at least one option"),
        ("approval", "[1,1]", "at most once"),
        ("approval", "[0]", "must be a number between 1 and 3"),
        ("approval", "[①]", "“①” is not one of them"),
        ("approval", "[[1],[2]]", "nested too deeply"),
        ("ranked-choice", "[1,2]", "Rank every option exactly once"),
        ("ranked-choice", "[1,1,2]", "Rank every option exactly once"),
        ("ranked-choice", "[" * 1000 + "]" * 1000, "nested too deeply"),
        ("copeland", "{\"1\":1}", "Rank the options"),
        ("copeland", "[1,2,3.0]", "Rank the options"),
        ("weighted", "[1]", "Split your weight"),
        ("weighted", "{\"4\":1}", "does not exist"),
        ("weighted", "{\"01\":1}", "does not exist"),
        ("weighted", "{\"\\u00b2\":1}", "does not exist"),
        ("weighted", "{\"1\":{\"1\":1}}", "nested too deeply"),
        ("weighted", "{\"1\":1,\"1\":2}", "Name each option at most once"),
        ("quadratic", "{\"1\":0}", "whole number above zero"),
        ("quadratic", "{\"1\":1.5}", "whole number above zero"),
        ("quadratic", "{\"1\":NaN}", "whole number above zero"),
        ("quadratic", "{\"1\":1e999}", "whole number above zero"),
        ("quadratic", "x" * 2001, "short JSON text"),
    ],
)
def test_malformed_choices_are_refused_with_a_sentence(voting_type, text, sentence):
    with pytest.raises(InvalidChoice, match=sentence) as refused:
        voting_method(voting_type).parse(text, 3)
    assert refused.value.status == 422


JSONISH = st.text(alphabet=string.digits + "[]{}\",:.-e ²①١" + "\\u", max_size=60)


@settings(max_examples=400, deadline=None)
@given(voting_type=st.sampled_from(VotingType.values), text=JSONISH | st.text(max_size=60))
def test_any_text_either_parses_to_a_ballot_or_is_refused_with_a_sentence(voting_type, text):
    method = voting_method(voting_type)
    try:
        ballot = method.parse(text, 3)
    except InvalidChoice as refused:
        assert refused.message.endswith(".")
        return
    assert method.describe(["A", "B", "C"], ballot)  # what parses can be told in words


@pytest.mark.parametrize(
    ("voting_type", "ballot", "words"),
    [
        ("basic", 2, "Against"),
        ("approval", [3, 1], "A, C"),
        ("weighted", {1: 2, 3: 1}, "66.7% for A, 33.3% for C"),
        ("quadratic", {2: 1, 3: 1}, "50% for B, 50% for C"),
        ("ranked-choice", [2, 3, 1], "(1st) B, (2nd) C, (3rd) A"),
        ("copeland", [3, 1, 2], "(1st) C, (2nd) A, (3rd) B"),
    ],
)
def test_a_ballot_in_words(voting_type, ballot, words):
    choices = ["For", "Against", "Abstain"] if voting_type == "basic" else ["A", "B", "C"]
    assert voting_method(voting_type).describe(choices, ballot) == words


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D("0E-18"), "0"), (D("-0"), "0"), (D(0), "0"), (D("12.500000000000000000"), "12.5"), (D("1E+3"), "1000"),
        (D("0.000000000000000001"), "0.000000000000000001"), ("15450", "15450"), (7, "7"),
    ],
)
def test_amounts_are_published_as_plain_decimal_strings(amount, text):
    assert amount_text(amount) == text
