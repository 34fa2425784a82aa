"""The ranked voting types: ranked-choice (instant run-off) and copeland. Both need whole ballots, so their state is
the weight behind each distinct ranking; `_scores` runs snapshot.js's algorithm over those groups."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, localcontext

from governance.voting.base import TallyState, VotingMethod
from governance.voting.choice import Ballot, InvalidChoice, is_whole, ordinal
from governance.voting.constants import PRECISION, VotingType

Groups = list[tuple[tuple[int, ...], Decimal]]


class Ranking(VotingMethod):
    """A ballot ranks every choice exactly once, best first: `[3,1,2]`."""

    def check(self, value: object, n_choices: int) -> list[int]:
        numbers = f"between 1 and {n_choices}"
        if not isinstance(value, list) or not all(is_whole(v) for v in value):
            raise InvalidChoice(f"Rank the options: a list of numbers {numbers}, for example \"[3,1,2]\".")
        if sorted(value) != list(range(1, n_choices + 1)):
            raise InvalidChoice(f"Rank every option exactly once: a list of all the numbers {numbers}.")
        return value

    def describe(self, choices: list[str], ballot: list[int]) -> str:
        names = [choices[i - 1] for i in ballot if 0 < i <= len(choices)]
        return ", ".join(f"({ordinal(rank)}) {name}" for rank, name in enumerate(names, start=1))

    def empty(self, n_choices: int) -> TallyState:
        return TallyState(total=Decimal(0), groups={})

    def _add(self, state: TallyState, ballot: list[int], weight: Decimal, sign: int) -> None:
        signed = weight if sign > 0 else -weight
        state.total += signed
        ranking = tuple(ballot)
        remaining = state.groups.get(ranking, Decimal(0)) + signed
        if remaining:
            state.groups[ranking] = remaining
        else:
            state.groups.pop(ranking, None)

    def count(self, n_choices: int, ballots: Iterable[tuple[Ballot, Decimal]]) -> tuple[TallyState, int]:
        # `_add` inline: one dict update per vote, then all the work is per distinct ranking.
        groups: dict[tuple[int, ...], Decimal] = {}
        total = Decimal(0)
        voters = 0
        zero = Decimal(0)
        with localcontext() as ctx:
            ctx.prec = PRECISION
            for ballot, weight in ballots:
                ranking = tuple(ballot)
                groups[ranking] = groups.get(ranking, zero) + weight
                total += weight
                voters += 1
        return TallyState(total=total, groups=groups), voters

    def _scores(self, state: TallyState, n_choices: int) -> list[Decimal]:
        return self._rank(list(state.groups.items()), n_choices, state.total)

    def _rank(self, groups: Groups, n_choices: int, total: Decimal) -> list[Decimal]:
        raise NotImplementedError


class RankedChoice(Ranking):
    """snapshot.js rankedChoice.ts (`irv`): count first preferences among the choices someone ranks first; stop when
    one has more than half of the weight still counted or fewer than three remain; otherwise strike the one with the
    least (on a tie the lowest-numbered) from every ballot and count again. A choice scores its last-round count."""

    voting_type = VotingType.RANKED_CHOICE

    def _rank(self, groups: Groups, n_choices: int, total: Decimal) -> list[Decimal]:
        ballots = groups
        while True:
            counts: dict[int, Decimal] = {}
            for ranking, weight in ballots:
                counts[ranking[0]] = counts.get(ranking[0], Decimal(0)) + weight
            order = sorted(counts)  # a JavaScript object lists integer keys in ascending order
            counted = sum((w for _, w in ballots), Decimal(0))
            top = max((counts[c] for c in order), default=None)
            if top is None or top > counted / 2 or len(order) < 3:
                return [counts.get(i, Decimal(0)) for i in range(1, n_choices + 1)]
            bottom = min(order, key=lambda c: counts[c])  # the first minimum, like reduce with `<`
            regrouped: dict[tuple[int, ...], Decimal] = {}
            for ranking, weight in ballots:
                rest = tuple(c for c in ranking if c != bottom)
                if rest:
                    regrouped[rest] = regrouped.get(rest, Decimal(0)) + weight
            ballots = list(regrouped.items())


class Copeland(Ranking):
    """snapshot.js copeland.ts (0.14.26 and later): every ordered pair of choices gives the one more weight ranks
    higher a point (½ each on a tie), so a pairwise win counts 2 and a tie 1. Ties are broken by Average Support:
    each choice adds ½ × (weight ranking it above an opponent, summed over its n − 1 matchups) / ((n − 1) × total),
    which is below ½ and so never overturns a victory. The points then share out the total weight."""

    voting_type = VotingType.COPELAND

    def _rank(self, groups: Groups, n_choices: int, total: Decimal) -> list[Decimal]:
        margins = [[Decimal(0)] * n_choices for _ in range(n_choices)]
        support = [Decimal(0)] * n_choices
        for ranking, weight in groups:
            for place, preferred in enumerate(ranking):
                better = preferred - 1
                for lower in ranking[place + 1 :]:
                    margins[better][lower - 1] += weight
                    margins[lower - 1][better] -= weight
                    support[better] += weight
        points = [Decimal(0)] * n_choices
        half = Decimal("0.5")
        for i in range(n_choices):
            for j in range(n_choices):
                if i == j:
                    continue
                if margins[i][j] > 0:
                    points[i] += 1
                elif margins[i][j] < 0:
                    points[j] += 1
                else:
                    points[i] += half
                    points[j] += half
        matchups = n_choices - 1
        if total > 0 and matchups > 0:
            for i in range(n_choices):
                points[i] += half * support[i] / (matchups * total)
        grand = sum(points, Decimal(0))
        if grand > 0:
            return [p / grand * total for p in points]
        return [total / n_choices for _ in points]
