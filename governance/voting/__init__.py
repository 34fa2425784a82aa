"""Voting types as Snapshot counts them (snapshot.js `src/voting/*.ts`, the version in docs/recount-format.md).

One object per voting type (`voting_method("copeland")`) parses a signed choice, describes it, folds a vote into
the running tally, counts all votes for the recount and the close, scores, and decides the outcome. Pure: no ORM,
no I/O. Amounts are Decimals in token units; scores are rounded to one wei; `amount_text` is how any of them is
published.

    method = voting_method(proposal.voting_type)
    ballot = method.parse(vote.choice, n)          # InvalidChoice (a Refusal, 422) with a sentence
    method.fold(state, ballot, weight)             # the live tally; sign=-1 takes a replaced vote out
    state, voters = method.count(n, ballots)       # every vote at once: the recount, the frozen result
    scores = method.scores(state, n)
    outcome, winner = method.decide(scores, wei(state.total), quorum)
"""

from __future__ import annotations

from governance.voting.amounts import WEI, amount_text, wei
from governance.voting.base import TallyResult, TallyState, VotingMethod
from governance.voting.choice import Ballot, InvalidChoice
from governance.voting.constants import BASIC_CHOICES, Outcome, VotingType
from governance.voting.ranked import Copeland, RankedChoice
from governance.voting.sums import Approval, Basic, Quadratic, SingleChoice, Weighted
from portal.errors import Refusal

METHODS: dict[str, VotingMethod] = {
    method.voting_type.value: method
    for method in (Basic(), SingleChoice(), Approval(), Weighted(), Quadratic(), RankedChoice(), Copeland())
}
VOTING_TYPES: tuple[str, ...] = tuple(VotingType.values)


def voting_method(voting_type: str) -> VotingMethod:
    """The object for `voting_type` (a VotingType or its value). Raises Refusal for a type the portal does not know."""
    method = METHODS.get(str(voting_type))
    if method is None:
        raise Refusal(f"Unknown voting type {voting_type!r}: choose one of {', '.join(VOTING_TYPES)}.")
    return method


__all__ = [
    "BASIC_CHOICES", "METHODS", "VOTING_TYPES", "WEI", "Ballot", "InvalidChoice", "Outcome", "TallyResult",
    "TallyState", "VotingMethod", "VotingType", "amount_text", "voting_method", "wei",
]
