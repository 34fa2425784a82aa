"""The voting types whose state is one running sum per choice: basic, single-choice, approval, weighted, quadratic.

Each type's arithmetic is its `_parts(ballot, weight)`: what one vote adds to each choice. Folding a vote in, taking
a replaced one out and recounting all votes all go through it; `_scores` turns the sums into snapshot.js's scores.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from decimal import Decimal, localcontext

from governance.voting.base import TallyState, VotingMethod
from governance.voting.choice import MAX_AMOUNT, Ballot, InvalidChoice, is_whole, js_tenths, option_key
from governance.voting.constants import BASIC_CHOICES, PRECISION, VotingType


def _name(choices: list[str], number: int) -> str:
    return choices[number - 1] if 0 < number <= len(choices) else f"#{number}"


class SumMethod(VotingMethod):
    def empty(self, n_choices: int) -> TallyState:
        return TallyState(total=Decimal(0), sums=[Decimal(0)] * n_choices)

    def _parts(self, ballot: Ballot, weight: Decimal) -> Iterable[tuple[int, Decimal]]:
        """(choice index from 0, the weight this vote adds to it)."""
        raise NotImplementedError

    def _add(self, state: TallyState, ballot: Ballot, weight: Decimal, sign: int) -> None:
        sums = state.sums
        if sign > 0:
            state.total += weight
            for i, part in self._parts(ballot, weight):
                sums[i] += part
        else:
            state.total -= weight
            for i, part in self._parts(ballot, weight):
                sums[i] -= part

    def count(self, n_choices: int, ballots: Iterable[tuple[Ballot, Decimal]]) -> tuple[TallyState, int]:
        # `_add` without its per-vote sign and call overhead: the same parts, a third faster over many votes.
        sums = [Decimal(0)] * n_choices
        total = Decimal(0)
        voters = 0
        parts = self._parts
        with localcontext() as ctx:
            ctx.prec = PRECISION
            for ballot, weight in ballots:
                total += weight
                voters += 1
                for i, part in parts(ballot, weight):
                    sums[i] += part
        return TallyState(total=total, sums=sums), voters

    def _scores(self, state: TallyState, n_choices: int) -> list[Decimal]:
        return list(state.sums)


class SingleChoice(SumMethod):
    """snapshot.js singleChoice.ts: the voter's weight goes to the one chosen choice."""

    voting_type = VotingType.SINGLE_CHOICE

    def check(self, value: object, n_choices: int) -> int:
        if not is_whole(value) or not 1 <= value <= n_choices:
            raise InvalidChoice(f"Choose exactly one option: a number between 1 and {n_choices}, for example \"1\".")
        return value

    def describe(self, choices: list[str], ballot: int) -> str:
        return _name(choices, ballot)

    def _parts(self, ballot: int, weight: Decimal) -> Iterable[tuple[int, Decimal]]:
        return ((ballot - 1, weight),)


class Basic(SingleChoice):
    """Single choice among For, Against, Abstain. Passes when For outweighs Against; For + Abstain make quorum."""

    voting_type = VotingType.BASIC
    choices = BASIC_CHOICES

    def quorum_weight(self, scores: list[Decimal], total: Decimal) -> Decimal:
        return scores[0] + scores[2]

    def winner(self, scores: list[Decimal], total: Decimal) -> int | None:
        return 1 if scores[0] > scores[1] else None


class Approval(SumMethod):
    """snapshot.js approval.ts: the voter's full weight goes to every approved choice."""

    voting_type = VotingType.APPROVAL

    def check(self, value: object, n_choices: int) -> list[int]:
        numbers = f"between 1 and {n_choices}"
        if not isinstance(value, list) or not value or not all(is_whole(v) for v in value):
            raise InvalidChoice(f"Approve at least one option: a list of numbers {numbers}, for example \"[1,3]\".")
        if any(not 1 <= v <= n_choices for v in value):
            raise InvalidChoice(f"Every approved option must be a number {numbers}.")
        if len(set(value)) != len(value):
            raise InvalidChoice("Approve each option at most once.")
        return value

    def describe(self, choices: list[str], ballot: list[int]) -> str:
        return ", ".join(name for i, name in enumerate(choices, start=1) if i in ballot)  # in the proposal's order

    def _parts(self, ballot: list[int], weight: Decimal) -> Iterable[tuple[int, Decimal]]:
        return [(number - 1, weight) for number in ballot]


class Split(SumMethod):
    """A ballot that splits the voter's weight: `{"1": 2, "3": 1}` (whole numbers above zero)."""

    def check(self, value: object, n_choices: int) -> dict[int, int]:
        numbers = f"between 1 and {n_choices}"
        if not isinstance(value, dict) or not value:
            raise InvalidChoice(
                f"Split your weight: an object from option numbers {numbers} to amounts, for example "
                '"{\\"1\\":2,\\"3\\":1}".'
            )
        ballot: dict[int, int] = {}
        for key, amount in value.items():
            number = option_key(key, n_choices)
            if number is None:
                raise InvalidChoice(f"Option {key!r} does not exist: use numbers {numbers}.")
            if not is_whole(amount) or not 0 < amount <= MAX_AMOUNT:
                raise InvalidChoice("Each amount must be a whole number above zero.")
            ballot[number] = amount
        return ballot

    def describe(self, choices: list[str], ballot: dict[int, int]) -> str:
        whole = sum(ballot.values())
        return ", ".join(
            f"{self._percent(ballot[i], whole)}% for {name}" for i, name in enumerate(choices, start=1) if ballot.get(i)
        )

    def _scores(self, state: TallyState, n_choices: int) -> list[Decimal]:
        """Each choice's share of all the choices' results, times the weight cast (snapshot.js's last step)."""
        results = self._results(state.sums)
        grand = sum(results, Decimal(0))
        if grand <= 0:
            return [Decimal(0)] * n_choices
        return [r / grand * state.total for r in results]

    def _results(self, sums: list[Decimal]) -> list[Decimal]:
        return list(sums)


class Weighted(Split):
    """snapshot.js weighted.ts: choice i gets weight × amount_i / Σ amounts of each ballot."""

    voting_type = VotingType.WEIGHTED

    def _percent(self, amount: int, whole: int) -> str:
        return js_tenths(amount / whole * 100 * 10)

    def _parts(self, ballot: dict[int, int], weight: Decimal) -> Iterable[tuple[int, Decimal]]:
        whole = sum(ballot.values())
        return [(number - 1, weight * amount / whole) for number, amount in ballot.items()]


class Quadratic(Split):
    """snapshot.js quadratic.ts: per choice Σ sqrt(amount_i / Σ amounts × weight) over the ballots, in IEEE doubles as
    snapshot.js does; the sums are squared and the squares share out the weight cast."""

    voting_type = VotingType.QUADRATIC

    def _percent(self, amount: int, whole: int) -> str:
        return js_tenths(amount / whole * 1000)

    def _roots(self, ballot: dict[int, int], weight: Decimal) -> Iterator[tuple[int, float]]:
        """snapshot.js's calcSqrt(calcPercentageOfSum(amount, amounts), balance), in the same doubles."""
        whole = sum(ballot.values())
        balance = float(weight)
        for number, amount in ballot.items():
            yield number - 1, math.sqrt(amount / whole * balance)

    def _parts(self, ballot: dict[int, int], weight: Decimal) -> Iterator[tuple[int, Decimal]]:
        for i, root in self._roots(ballot, weight):
            yield i, Decimal(root)

    def count(self, n_choices: int, ballots: Iterable[tuple[Ballot, Decimal]]) -> tuple[TallyState, int]:
        # The same roots, summed with fsum: exact, independent of the order of the votes, and no Decimal per vote.
        roots: list[list[float]] = [[] for _ in range(n_choices)]
        weights: list[Decimal] = []
        for ballot, weight in ballots:
            for i, root in self._roots(ballot, weight):
                roots[i].append(root)
            weights.append(weight)
        with localcontext() as ctx:
            ctx.prec = PRECISION
            total = sum(weights, Decimal(0))
        return TallyState(total=total, sums=[Decimal(math.fsum(r)) for r in roots]), len(weights)

    def _results(self, sums: list[Decimal]) -> list[Decimal]:
        return [s * s for s in sums]
