"""What every voting type does, and the running state it does it on.

A voting type is one object (see `sums.py` and `ranked.py`) that can

- `parse(text, n)` the signed choice into a ballot, or refuse it with a sentence;
- `describe(choices, ballot)` the ballot in words (snapshot.js `getChoiceString`);
- `fold(state, ballot, weight, sign)` one vote into the running state (the live tally; `sign=-1` takes a replaced
  vote back out), and `count(n, ballots)` all votes into a fresh state (the recount and the close) — both through the
  type's one `_add`, so each formula exists once;
- `scores(state, n)` Snapshot's `getScores()` from the state, rounded to one wei;
- `decide(scores, total, quorum)` the outcome and the winning choice.

The state is small: per-choice sums, or (ranked types) the weight behind each distinct ranking, so a tally costs a
function of the number of distinct rankings (at most n!), not of the number of voters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from governance.voting.amounts import wei
from governance.voting.choice import Ballot, choice_json
from governance.voting.constants import PRECISION, Outcome, VotingType


@dataclass
class TallyState:
    """Running totals: `total` weight cast, and either `sums` (one per choice) or `groups` (ranking → weight)."""

    total: Decimal = Decimal(0)
    sums: list[Decimal] | None = None
    groups: dict[tuple[int, ...], Decimal] | None = None

    def to_json(self) -> dict:
        """As stored in ProposalTally.state: `{"total", "sums": [...]}` or `{"total", "groups": {"3,1,2": ...}}`."""
        out: dict = {"total": str(self.total)}
        if self.groups is not None:
            out["groups"] = {",".join(map(str, ranking)): str(w) for ranking, w in self.groups.items()}
        else:
            out["sums"] = [str(s) for s in self.sums or []]
        return out

    @classmethod
    def from_json(cls, data: dict) -> TallyState:
        if "groups" in data:
            groups = {tuple(int(c) for c in key.split(",")): Decimal(w) for key, w in data["groups"].items()}
            return cls(total=Decimal(data["total"]), groups=groups)
        return cls(total=Decimal(data["total"]), sums=[Decimal(s) for s in data["sums"]])


@dataclass(frozen=True)
class TallyResult:
    scores: list[Decimal]
    total: Decimal
    voters: int
    winner: int | None = field(default=None)


class VotingMethod:
    """One voting type. Subclasses set `voting_type` and implement `check`, `describe`, `empty`, `_add`, `_scores`."""

    voting_type: VotingType

    # ---- choices
    def parse(self, text: str, n_choices: int) -> Ballot:
        """The signed choice text as a ballot of this type (choices numbered from 1). Raises InvalidChoice."""
        return self.check(choice_json(text), n_choices)

    def check(self, value: object, n_choices: int) -> Ballot:
        raise NotImplementedError

    def describe(self, choices: list[str], ballot: Ballot) -> str:
        raise NotImplementedError

    # ---- tally
    def empty(self, n_choices: int) -> TallyState:
        raise NotImplementedError

    def _add(self, state: TallyState, ballot: Ballot, weight: Decimal, sign: int) -> None:
        """Fold one ballot into `state` in place; the caller holds the PRECISION context."""
        raise NotImplementedError

    def _scores(self, state: TallyState, n_choices: int) -> list[Decimal]:
        raise NotImplementedError

    def fold(self, state: TallyState, ballot: Ballot, weight: Decimal, sign: int = 1) -> TallyState:
        """Add one parsed ballot with `weight` to the running `state` (sign=-1 takes it out again); returns it."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            self._add(state, ballot, Decimal(weight), 1 if sign > 0 else -1)
        return state

    def count(self, n_choices: int, ballots: Iterable[tuple[Ballot, Decimal]]) -> tuple[TallyState, int]:
        """The state of all `(ballot, weight)` votes at once, and how many there were (the recount, the close)."""
        state = self.empty(n_choices)
        voters = 0
        with localcontext() as ctx:
            ctx.prec = PRECISION
            for ballot, weight in ballots:
                self._add(state, ballot, weight, 1)
                voters += 1
        return state, voters

    def scores(self, state: TallyState, n_choices: int) -> list[Decimal]:
        """Snapshot's `getScores()` for the state: one Decimal per choice, rounded to one wei."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return [wei(s) for s in self._scores(state, n_choices)]

    def recount(self, choices: list[str], ballots: Iterable[tuple[Ballot, Decimal]]) -> TallyResult:
        """Scores, total, voters and winner from every parsed vote."""
        state, voters = self.count(len(choices), ballots)
        scores = self.scores(state, len(choices))
        total = wei(state.total)
        return TallyResult(scores=scores, total=total, voters=voters, winner=self.winner(scores, total))

    # ---- outcome
    def quorum_weight(self, scores: list[Decimal], total: Decimal) -> Decimal:
        """The weight that counts toward quorum: all cast weight (basic: For + Abstain)."""
        return total

    def winner(self, scores: list[Decimal], total: Decimal) -> int | None:
        """The choice that scores strictly more than every other (numbered from 1), or None on a tie or no votes."""
        if not scores or total <= 0:
            return None
        best = max(scores)
        leaders = [i for i, s in enumerate(scores, start=1) if s == best]
        return leaders[0] if len(leaders) == 1 else None

    def decide(self, scores: list[Decimal], total: Decimal, quorum: Decimal) -> tuple[Outcome, int | None]:
        """`(Outcome, winning choice or None)`: quorum first, then a winner passes and anything else rejects."""
        if self.quorum_weight(scores, total) < quorum or (quorum > 0 and total <= 0):
            return Outcome.QUORUM_NOT_MET, None
        chosen = self.winner(scores, total)
        return (Outcome.PASSED, chosen) if chosen is not None else (Outcome.REJECTED, None)
