"""Vote tallies as Snapshot computes them (snapshot.js `src/voting/*.ts`): pure functions, no ORM, no I/O.

A tally runs in two steps so the portal can keep a running total without a full recount per vote:

- `accumulate(voting_type, n, state, ballot, weight, sign)` folds one ballot into a small *state* (per-choice sums, or
  ballots grouped by identical ranking for ranked-choice and copeland); `sign=-1` takes a replaced vote back out.
- `scores_from_state(voting_type, n, state)` turns that state into Snapshot's per-choice scores.

`tally()` does both for a list of ballots (the recount). Ranked-choice (instant run-off) and copeland need whole
ballots; grouping identical rankings keeps them cheap: their cost grows with the number of *distinct* rankings
(at most n!), not with the number of voters.

Amounts are Decimals in token units; results are rounded to 18 decimal places (one wei).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

VOTING_TYPES = ("basic", "single-choice", "approval", "weighted", "quadratic", "ranked-choice", "copeland")
VOTING_TYPE_LABELS = {
    "basic": "Basic (For, Against, Abstain)",
    "single-choice": "Single choice",
    "approval": "Approval",
    "weighted": "Weighted",
    "quadratic": "Quadratic",
    "ranked-choice": "Ranked choice (instant run-off)",
    "copeland": "Copeland (ranked pairwise)",
}
BASIC_CHOICES = ["For", "Against", "Abstain"]
RANKED = ("ranked-choice", "copeland")
SPLIT = ("weighted", "quadratic")
WEI = Decimal("0.000000000000000001")
PRECISION = 60

Ballot = int | list[int] | dict[int, int]


class InvalidChoice(ValueError):
    """The choice text does not fit the voting type; the message is a sentence for the voter."""


# ---- choices ---------------------------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_choice(voting_type: str, n_choices: int, text: str) -> Ballot:
    """Parse and check a signed choice (CONTRACT encodings, choices numbered from 1). Raises InvalidChoice."""
    if voting_type not in VOTING_TYPES:
        raise InvalidChoice(f"Unknown voting type {voting_type!r}.")
    if not isinstance(text, str) or len(text) > 2000:
        raise InvalidChoice("The choice must be short JSON text.")
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidChoice("The choice is not valid JSON text.") from None
    numbers = f"between 1 and {n_choices}"
    if voting_type in ("basic", "single-choice"):
        if not _is_int(value) or not 1 <= value <= n_choices:
            raise InvalidChoice(f"Choose exactly one option: a number {numbers}, for example \"1\".")
        return value
    if voting_type == "approval":
        if not isinstance(value, list) or not value or not all(_is_int(v) for v in value):
            raise InvalidChoice(f"Approve at least one option: a list of numbers {numbers}, for example \"[1,3]\".")
        if any(not 1 <= v <= n_choices for v in value):
            raise InvalidChoice(f"Every approved option must be a number {numbers}.")
        if len(set(value)) != len(value):
            raise InvalidChoice("Approve each option at most once.")
        return value
    if voting_type in RANKED:
        if not isinstance(value, list) or not all(_is_int(v) for v in value):
            raise InvalidChoice(f"Rank the options: a list of numbers {numbers}, for example \"[3,1,2]\".")
        if sorted(value) != list(range(1, n_choices + 1)):
            raise InvalidChoice(f"Rank every option exactly once: a list of all the numbers {numbers}.")
        return value
    # weighted, quadratic
    if not isinstance(value, dict) or not value:
        raise InvalidChoice(
            f"Split your weight: an object from option numbers {numbers} to amounts, for example "
            '"{\\"1\\":2,\\"3\\":1}".'
        )
    ballot: dict[int, int] = {}
    for key, amount in value.items():
        if not (key.isdigit() and 1 <= int(key) <= n_choices):
            raise InvalidChoice(f"Option {key!r} does not exist: use numbers {numbers}.")
        if not _is_int(amount) or amount <= 0 or amount > 10**12:
            raise InvalidChoice("Each amount must be a whole number above zero.")
        ballot[int(key)] = amount
    return ballot


def describe_choice(voting_type: str, choices: list[str], ballot: Ballot) -> str:
    """A ballot in words, e.g. "For", "(1st) B, (2nd) A", "67% for A, 33% for C"."""

    def name(i: int) -> str:
        return choices[i - 1] if 0 < i <= len(choices) else f"#{i}"

    if voting_type in ("basic", "single-choice"):
        return name(ballot)
    if voting_type == "approval":
        return ", ".join(name(i) for i in ballot)
    if voting_type in RANKED:
        return ", ".join(f"({_ordinal(k)}) {name(i)}" for k, i in enumerate(ballot, start=1))
    total = sum(ballot.values())
    return ", ".join(f"{round(100 * v / total)}% for {name(i)}" for i, v in sorted(ballot.items()))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# ---- running state -------------------------------------------------------------------------------------------


def new_state(voting_type: str, n_choices: int) -> dict:
    if voting_type in RANKED:
        return {"total": Decimal(0), "groups": {}}
    return {"total": Decimal(0), "sums": [Decimal(0)] * n_choices}


def accumulate(voting_type: str, n_choices: int, state: dict, ballot: Ballot, weight: Decimal, sign: int = 1) -> dict:
    """Fold one ballot (already parsed) with `weight` into `state` in place; sign=-1 removes it again."""
    weight = Decimal(weight)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        signed = weight if sign > 0 else -weight
        state["total"] += signed
        if voting_type in RANKED:
            key = ",".join(map(str, ballot))
            groups = state["groups"]
            remaining = groups.get(key, Decimal(0)) + signed
            if remaining == 0:
                groups.pop(key, None)
            else:
                groups[key] = remaining
            return state
        _fold(voting_type, state["sums"], ballot, weight, sign)
    return state


def _fold(voting_type: str, sums: list[Decimal], ballot: Ballot, weight: Decimal, sign: int) -> None:
    """Add (sign=1) or take out (sign=-1) one ballot's contribution to the per-choice sums. Call inside PRECISION."""
    if voting_type in ("basic", "single-choice"):
        sums[ballot - 1] += weight if sign > 0 else -weight
    elif voting_type == "approval":
        signed = weight if sign > 0 else -weight
        for i in ballot:
            sums[i - 1] += signed
    elif voting_type == "weighted":
        denominator = sum(ballot.values())
        for i, amount in ballot.items():
            part = Decimal(amount) * weight / denominator
            sums[i - 1] += part if sign > 0 else -part
    else:
        denominator = sum(ballot.values())
        for i, amount in ballot.items():
            part = Decimal(_quadratic_root(amount, denominator, weight))
            sums[i - 1] += part if sign > 0 else -part


def _quadratic_root(amount: int, denominator: int, weight: Decimal) -> float:
    """Snapshot's quadraticMath, in the same floating point: sqrt(percentage / 100 × balance)."""
    return math.sqrt((amount / denominator * 100) / 100 * float(weight))


def _convert_state(state: dict, convert) -> dict:
    out: dict = {"total": convert(state["total"])}
    if "groups" in state:
        out["groups"] = {k: convert(v) for k, v in state["groups"].items()}
    else:
        out["sums"] = [convert(v) for v in state["sums"]]
    return out


def state_to_json(state: dict) -> dict:
    return _convert_state(state, str)


def state_from_json(data: dict) -> dict:
    return _convert_state(data, Decimal)


# ---- scores ---------------------------------------------------------------------------------------------------


def _wei(value: Decimal) -> Decimal:
    return value.quantize(WEI, rounding=ROUND_HALF_EVEN)


def scores_from_state(voting_type: str, n_choices: int, state: dict) -> list[Decimal]:
    """Snapshot's `getScores()` for the state: one Decimal per choice, rounded to one wei."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        total = state["total"]
        if voting_type in ("basic", "single-choice", "approval"):
            return [_wei(s) for s in state["sums"]]
        if voting_type in SPLIT:
            results = state["sums"]
            if voting_type == "quadratic":
                results = [s * s for s in results]
            grand = sum(results, Decimal(0))
            if grand <= 0:
                return [Decimal(0).quantize(WEI)] * n_choices
            return [_wei(r / grand * total) for r in results]
        groups = [(tuple(int(c) for c in key.split(",")), w) for key, w in state["groups"].items()]
        if voting_type == "ranked-choice":
            return [_wei(s) for s in _instant_runoff(groups, n_choices)]
        return [_wei(s) for s in _copeland(groups, n_choices, total)]


def _instant_runoff(groups: list[tuple[tuple[int, ...], Decimal]], n_choices: int) -> list[Decimal]:
    """Snapshot's `irv()`: count first preferences among the candidates still named first on some ballot; stop when
    one has more than half or fewer than three remain; otherwise drop the lowest (the lowest-numbered on a tie)."""
    ballots = groups
    while True:
        counts: dict[int, Decimal] = {}
        for ranking, weight in ballots:
            counts[ranking[0]] = counts.get(ranking[0], Decimal(0)) + weight
        order = sorted(counts)  # JavaScript objects list integer keys in ascending order
        total = sum((w for _, w in ballots), Decimal(0))
        top = max((counts[c] for c in order), default=None)
        if top is None or top > total / 2 or len(order) < 3:
            break
        bottom = min(order, key=lambda c: counts[c])  # first minimum, like the reduce with `<`
        regrouped: dict[tuple[int, ...], Decimal] = {}
        for ranking, weight in ballots:
            rest = tuple(c for c in ranking if c != bottom)
            if rest:
                regrouped[rest] = regrouped.get(rest, Decimal(0)) + weight
        ballots = list(regrouped.items())
    return [counts.get(i, Decimal(0)) for i in range(1, n_choices + 1)]


def _copeland(groups, n_choices: int, total: Decimal) -> list[Decimal]:
    """Snapshot's copeland: pairwise weight margins; a pairwise win is 1 point, a tie ½ each; points are then scaled
    so they share out the total voting power."""
    pairwise = [[Decimal(0)] * n_choices for _ in range(n_choices)]
    for ranking, weight in groups:
        for hi in range(len(ranking)):
            better = ranking[hi] - 1
            for lo in range(hi + 1, len(ranking)):
                worse = ranking[lo] - 1
                pairwise[better][worse] += weight
                pairwise[worse][better] -= weight
    points = [Decimal(0)] * n_choices
    half = Decimal("0.5")
    for i in range(n_choices):
        for j in range(n_choices):
            if i == j:
                continue
            margin = pairwise[i][j]
            if margin > 0:
                points[i] += 1
            elif margin < 0:
                points[j] += 1
            else:
                points[i] += half
                points[j] += half
    grand = sum(points, Decimal(0))
    if grand > 0:
        return [p / grand * total for p in points]
    return [total / n_choices for _ in points]


@dataclass(frozen=True)
class TallyResult:
    scores: list[Decimal]
    total: Decimal
    voters: int


def tally(voting_type: str, choices: list[str], ballots: Iterable[tuple[Ballot, Decimal]]) -> TallyResult:
    """The whole tally from parsed ballots `(ballot, weight)`: what a recount computes."""
    n = len(choices)
    state, voters = recount_state(voting_type, n, ballots)
    return TallyResult(scores=scores_from_state(voting_type, n, state), total=_wei(state["total"]), voters=voters)


def recount_state(voting_type: str, n: int, ballots: Iterable[tuple[Ballot, Decimal]]) -> tuple[dict, int]:
    """The state of a full recount (exact, independent of the order of the ballots) and the number of ballots."""
    state = new_state(voting_type, n)
    voters = 0
    if voting_type in RANKED:
        # Group identical rankings first: one Decimal add per ballot, then work per distinct ranking.
        groups: dict[tuple[int, ...], Decimal] = {}
        total = Decimal(0)
        with localcontext() as ctx:
            ctx.prec = PRECISION
            for ballot, weight in ballots:
                key = tuple(ballot)
                groups[key] = groups.get(key, Decimal(0)) + weight
                total += weight
                voters += 1
        state = {"total": total, "groups": {",".join(map(str, k)): w for k, w in groups.items()}}
    else:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            sums = state["sums"]
            total = Decimal(0)
            if voting_type in ("basic", "single-choice"):
                per_choice: dict[int, list[Decimal]] = {}
                for ballot, weight in ballots:
                    per_choice.setdefault(ballot, []).append(weight)
                for choice, weights in per_choice.items():
                    sums[choice - 1] = sum(weights, Decimal(0))
                    voters += len(weights)
                total = sum(sums, Decimal(0))
            elif voting_type == "weighted":
                # Σ amount × weight per denominator is exact; one division per (choice, denominator).
                # In integer wei (weights are whole wei), so the grouping costs plain int arithmetic.
                by_denominator: dict[int, list[int]] = {}
                weis: list[int] = []
                for ballot, weight in ballots:
                    denominator = sum(ballot.values())
                    row = by_denominator.get(denominator)
                    if row is None:
                        row = by_denominator[denominator] = [0] * n
                    wei = int(weight.scaleb(18))
                    weis.append(wei)
                    for i, amount in ballot.items():
                        row[i - 1] += wei * amount
                voters = len(weis)
                total = Decimal(sum(weis)).scaleb(-18)
                for denominator in sorted(by_denominator):
                    for i, value in enumerate(by_denominator[denominator]):
                        sums[i] += Decimal(value).scaleb(-18) / denominator
            elif voting_type == "quadratic":
                # Floating point like Snapshot; fsum makes the sum exact and independent of the order of the votes.
                parts: list[list[float]] = [[] for _ in range(n)]
                sqrt = math.sqrt
                weights: list[Decimal] = []
                for ballot, weight in ballots:
                    denominator = sum(ballot.values())
                    balance = float(weight)
                    for i, amount in ballot.items():
                        parts[i - 1].append(sqrt((amount / denominator * 100) / 100 * balance))  # _quadratic_root
                    weights.append(weight)
                voters = len(weights)
                total = sum(weights, Decimal(0))
                for i, values in enumerate(parts):
                    sums[i] = Decimal(math.fsum(values))
            else:
                for ballot, weight in ballots:
                    _fold(voting_type, sums, ballot, weight, 1)
                    total += weight
                    voters += 1
            state["total"] = total
    return state, voters


# ---- quorum and outcome -----------------------------------------------------------------------------------------


def quorum_weight(voting_type: str, scores: list[Decimal], total: Decimal) -> Decimal:
    """The weight that counts toward quorum: For + Abstain for basic, all cast weight otherwise."""
    if voting_type == "basic":
        return scores[0] + scores[2]
    return total


def outcome(voting_type: str, scores: list[Decimal], total: Decimal, quorum: Decimal) -> tuple[str, int | None]:
    """`("quorum_not_met" | "passed" | "rejected", winning choice number or None)`.

    Basic passes when quorum is met and For outweighs Against. The other types pass when quorum is met and one
    choice scores strictly more than every other (that choice wins); a tie at the top or no votes at all rejects.
    """
    if quorum_weight(voting_type, scores, total) < quorum or (quorum > 0 and total <= 0):
        return "quorum_not_met", None
    if voting_type == "basic":
        return ("passed", 1) if scores[0] > scores[1] else ("rejected", None)
    if not scores or total <= 0:
        return "rejected", None
    best = max(scores)
    leaders = [i for i, s in enumerate(scores, start=1) if s == best]
    return ("passed", leaders[0]) if len(leaders) == 1 else ("rejected", None)
