"""The portal's tallies against snapshot.js itself, on seeded random ballots for all seven voting types.

Each case is a stream of signed votes with re-votes (the latest vote of a voter counts). The running tally folds the
stream as the portal does live (taking a replaced vote out, the state stored as JSON between votes); the frozen result
counts the final votes at once, as the close and the recount do. Both must equal snapshot.js's `getScores()` on the
final votes to 1e-9 of the weight cast (`tolerance`), name the same winner and reach the same outcome.

snapshot.js counts in doubles, the portal in exact decimals. Where two scores are closer than doubles can tell
(dust beside whole tokens), snapshot.js cannot say who leads; there the portal's exact count decides, and the test
checks that the portal's leaders are just as close. Ties built from whole-token weights are exact in both.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from governance.voting import METHODS, TallyState, VotingMethod, VotingType, voting_method
from governance.voting.constants import BASIC_CHOICES
from tests.oracles.snapshot import assert_matches_snapshot, pinned_version, snapshot_case, snapshot_scores

SEED = 20261201
CASES_PER_FAMILY = 6
FAMILIES = ("random", "unpicked", "tie", "dust", "revotes")


@dataclass
class Case:
    name: str
    voting_type: str
    choices: list[str]
    events: list[tuple[str, object, Decimal]]  # (voter, parsed ballot, weight at the snapshot) in signing order
    quorum: Decimal = Decimal(0)
    exact_tie: bool = False
    final: list[tuple[object, Decimal]] = field(default_factory=list)

    def __post_init__(self):
        latest: dict[str, tuple[object, Decimal]] = {}
        for voter, ballot, weight in self.events:
            latest[voter] = (ballot, weight)
        self.final = list(latest.values())

    @property
    def method(self) -> VotingMethod:
        return voting_method(self.voting_type)


def _weight(rng: random.Random, family: str) -> Decimal:
    if family == "tie":
        return Decimal(rng.randint(1, 500))  # exact in doubles too, so a built tie is a tie for both
    roll = rng.random()
    if family == "dust" and roll < 0.5:
        return Decimal(rng.randint(1, 10**6)).scaleb(-18)  # 1 wei to a millionth of a millionth of a token
    if roll < 0.3:
        return Decimal(rng.randint(1, 1000))
    if roll < 0.7:
        return Decimal(rng.randint(1, 10**22)).scaleb(-18)  # up to 10,000 tokens, all 18 decimals
    if roll < 0.85:
        return Decimal(rng.randint(1, 10**15)).scaleb(-18)
    return Decimal(rng.randint(10**21, 10**27)).scaleb(-18)  # a whale


def _ballot(rng: random.Random, method: VotingMethod, n: int, offered: list[int]):
    kind = method.voting_type
    if kind in (VotingType.BASIC, VotingType.SINGLE_CHOICE):
        return rng.choice(offered)
    if kind == VotingType.APPROVAL:
        return rng.sample(offered, rng.randint(1, len(offered)))
    if kind in (VotingType.WEIGHTED, VotingType.QUADRATIC):
        return {i: rng.randint(1, 20) for i in rng.sample(offered, rng.randint(1, len(offered)))}
    rest = [i for i in range(1, n + 1) if i not in offered]
    return rng.sample(offered, len(offered)) + rng.sample(rest, len(rest))  # no one ranks the rest above the offered


def _mirror(ballot, a: int = 1, b: int = 2):
    """The same ballot with choices a and b swapped: a voter and their mirror make a and b tie exactly."""
    swap = {a: b, b: a}
    if isinstance(ballot, int):
        return swap.get(ballot, ballot)
    if isinstance(ballot, dict):
        return {swap.get(k, k): v for k, v in ballot.items()}
    return [swap.get(c, c) for c in ballot]


def _signed(method: VotingMethod, ballot, n: int):
    """The ballot as the voter signs it and the portal parses it back (so every case passes the real parser)."""
    text = json.dumps({str(k): v for k, v in ballot.items()} if isinstance(ballot, dict) else ballot)
    return method.parse(text, n)


def make_case(rng: random.Random, voting_type: str, family: str, index: int) -> Case:
    method = METHODS[voting_type]
    n = 3 if voting_type == VotingType.BASIC else rng.randint(2, 6)
    choices = list(BASIC_CHOICES) if voting_type == VotingType.BASIC else [f"Option {i}" for i in range(1, n + 1)]
    offered = list(range(1, n + 1))
    if family == "unpicked" and n > 2:
        offered = rng.sample(offered, rng.randint(1, n - 1))
    voters = rng.randint(0 if index == 0 else 1, 24)
    votes = []
    for v in range(voters):
        weight = _weight(rng, family)
        ballot = _ballot(rng, method, n, offered)
        votes.append((f"0x{v:040x}", ballot, weight))
        if family == "tie":
            votes.append((f"0x{v + 1000:040x}", _mirror(ballot), weight))
    events = [(voter, _signed(method, ballot, n), weight) for voter, ballot, weight in votes]
    if family == "revotes":  # some voters sign again, some twice; an earlier ballot may come back
        for voter, _, weight in list(events):
            for _ in range(rng.choice((0, 1, 1, 2))):
                events.append((voter, _signed(method, _ballot(rng, method, n, offered), n), weight))
        first = {}
        for voter, ballot, weight in events:
            first.setdefault(voter, (voter, ballot, weight))
        rng.shuffle(events)
        events = list(first.values()) + [e for e in events if e not in first.values()]
    total = sum((w for _, _, w in votes), Decimal(0))
    quorum = rng.choice((Decimal(0), Decimal(0), total * 3 + 1))  # none, or one nobody can reach
    return Case(f"{voting_type}-{family}-{index}", voting_type, choices, events, quorum, exact_tie=family == "tie")


def copeland_cycle(rng: random.Random, index: int) -> Case:
    """A Condorcet cycle A > B > C > A (each pairwise majority holds), extra choices ranked last in any order."""
    method = METHODS[VotingType.COPELAND]
    n = rng.randint(3, 5)
    while True:
        x, y, z = (rng.randint(1, 100) for _ in range(3))
        if x + z > y and x + y > z and y + z > x:
            break
    events = []
    for k, (ranking, weight) in enumerate((([1, 2, 3], x), ([2, 3, 1], y), ([3, 1, 2], z))):
        tail = rng.sample(range(4, n + 1), n - 3)
        for copy in range(rng.randint(1, 3)):
            share = Decimal(weight) / (copy + 1) if index % 2 else Decimal(weight)
            events.append((f"0x{k * 10 + copy:040x}", _signed(method, ranking + tail, n), share))
    return Case(f"copeland-cycle-{index}", VotingType.COPELAND, [f"Option {i}" for i in range(1, n + 1)], events)


def all_cases() -> list[Case]:
    rng = random.Random(SEED)
    cases = [
        make_case(rng, voting_type, family, index)
        for voting_type in VotingType.values
        for family in FAMILIES
        for index in range(CASES_PER_FAMILY)
    ]
    return cases + [copeland_cycle(rng, index) for index in range(12)]


CASES = all_cases()


@pytest.fixture(scope="module")
def snapshot_js():
    cases = [
        snapshot_case(c.voting_type, c.choices, c.final, describe=[ballot for ballot, _ in c.final[:3]]) for c in CASES
    ]
    version, results = snapshot_scores(cases)
    return version, dict(zip((c.name for c in CASES), results, strict=True))


def running_tally(case: Case) -> TallyState:
    """The live path: fold every signed vote in order, taking out the one it replaces; stored as JSON in between."""
    method, n = case.method, len(case.choices)
    stored = method.empty(n).to_json()
    counted: dict[str, tuple[object, Decimal]] = {}
    for voter, ballot, weight in case.events:
        state = TallyState.from_json(stored)
        if voter in counted:
            method.fold(state, *counted[voter], sign=-1)
        method.fold(state, ballot, weight)
        counted[voter] = (ballot, weight)
        stored = json.loads(json.dumps(state.to_json()))
    return TallyState.from_json(stored)


def test_the_oracle_is_the_pinned_snapshot_js(snapshot_js):
    version, _ = snapshot_js
    assert version == pinned_version()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_running_tally_and_frozen_result_equal_snapshot_js(case, snapshot_js):
    js = snapshot_js[1][case.name]
    method, n = case.method, len(case.choices)
    running = running_tally(case)
    assert_matches_snapshot(
        method, method.scores(running, n), running.total, js, quorum=case.quorum, exact_tie=case.exact_tie
    )
    frozen = method.recount(case.choices, case.final)
    assert frozen.voters == len(case.final)
    assert_matches_snapshot(method, frozen.scores, frozen.total, js, quorum=case.quorum, exact_tie=case.exact_tie)


@pytest.mark.parametrize("case", [c for c in CASES if c.final][::3], ids=lambda c: c.name)
def test_a_ballot_in_words_is_snapshot_js_choice_string(case, snapshot_js):
    words = snapshot_js[1][case.name]["words"]
    mine = [case.method.describe(case.choices, ballot) for ballot, _ in case.final[:3]]
    if case.voting_type == VotingType.COPELAND:  # the portal keeps the ranks a Copeland ballot is: "(1st) A, …"
        mine = [", ".join(part.split(") ", 1)[1] for part in text.split(", ")) for text in mine]
    assert mine == words
