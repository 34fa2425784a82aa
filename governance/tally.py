"""The old function-style tally API, kept while its callers move to `governance.voting` (one object per voting type).

Every name here forwards to `governance.voting`; no arithmetic lives in this module. New code should call
`voting_method(voting_type).parse / fold / count / scores / decide` directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from governance.voting import (
    BASIC_CHOICES,
    VOTING_TYPES,
    WEI,
    Ballot,
    InvalidChoice,
    TallyResult,
    TallyState,
    VotingType,
    voting_method,
    wei,
)

VOTING_TYPE_LABELS = dict(VotingType.choices)
_wei = wei  # selectors and services used the private name

__all__ = [
    "BASIC_CHOICES", "VOTING_TYPES", "VOTING_TYPE_LABELS", "WEI", "InvalidChoice", "TallyResult", "accumulate",
    "describe_choice", "new_state", "outcome", "parse_choice", "quorum_weight", "recount_state", "scores_from_state",
    "state_from_json", "state_to_json", "tally",
]


def parse_choice(voting_type: str, n_choices: int, text: str) -> Ballot:
    return voting_method(voting_type).parse(text, n_choices)


def describe_choice(voting_type: str, choices: list[str], ballot: Ballot) -> str:
    return voting_method(voting_type).describe(choices, ballot)


def new_state(voting_type: str, n_choices: int) -> TallyState:
    return voting_method(voting_type).empty(n_choices)


def accumulate(voting_type: str, n_choices: int, state: TallyState, ballot: Ballot, weight: Decimal, sign: int = 1):
    return voting_method(voting_type).fold(state, ballot, weight, sign)


def state_to_json(state: TallyState) -> dict:
    return state.to_json()


def state_from_json(data: dict) -> TallyState:
    return TallyState.from_json(data)


def scores_from_state(voting_type: str, n_choices: int, state: TallyState) -> list[Decimal]:
    return voting_method(voting_type).scores(state, n_choices)


def recount_state(voting_type: str, n_choices: int, ballots: Iterable[tuple[Ballot, Decimal]]):
    return voting_method(voting_type).count(n_choices, ballots)


def tally(voting_type: str, choices: list[str], ballots: Iterable[tuple[Ballot, Decimal]]) -> TallyResult:
    return voting_method(voting_type).recount(choices, ballots)


def quorum_weight(voting_type: str, scores: list[Decimal], total: Decimal) -> Decimal:
    return voting_method(voting_type).quorum_weight(scores, total)


def outcome(voting_type: str, scores: list[Decimal], total: Decimal, quorum: Decimal) -> tuple[str, int | None]:
    return voting_method(voting_type).decide(scores, total, quorum)
