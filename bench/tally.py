"""Tally benchmark: 100,000 synthetic votes through each voting type (goal: the recount under 1 second each).

Run: `.venv/bin/python bench/tally.py [VOTES]`. Pure functions, no database, no chain. Each figure is printed next
to a baseline measured in the same run — one Decimal sum over the same weights, the least any recount must do — so
a busy machine moves both.
"""

from __future__ import annotations

import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
django.setup()  # the voting objects refuse through portal.errors, which reads the API settings

from governance.voting import METHODS  # noqa: E402
from governance.voting.ranked import Ranking  # noqa: E402
from governance.voting.sums import Approval, Basic, SingleChoice, Split  # noqa: E402

CHOICES = ["Keep", "Raise 1%", "Raise 2%", "Lower 1%", "Pause"]


def ballots(method, n: int, count: int, rng: random.Random):
    for _ in range(count):
        weight = Decimal(rng.randint(1, 5_000_000)) / 1000
        if isinstance(method, SingleChoice):
            ballot = rng.randint(1, n)
        elif isinstance(method, Approval):
            ballot = rng.sample(range(1, n + 1), rng.randint(1, n))
        elif isinstance(method, Split):
            ballot = {i: rng.randint(1, 10) for i in rng.sample(range(1, n + 1), rng.randint(1, 3))}
        elif isinstance(method, Ranking):
            ballot = rng.sample(range(1, n + 1), n)
        else:
            raise TypeError(f"no synthetic ballots for {method.voting_type}")
        yield ballot, weight


def best_of_three(run) -> float:
    """The figure of the code, not of whatever else the machine runs at that moment."""
    elapsed = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        run()
        elapsed = min(elapsed, time.perf_counter() - started)
    return elapsed


def main(count: int = 100_000) -> int:
    rng = random.Random(42)
    slowest = 0.0
    print(f"{count:,} votes, {len(CHOICES)} choices, best of 3 (load average {os.getloadavg()[0]:.1f})")
    print(f"  {'voting type':<14} {'recount':>10} {'live fold':>10} {'baseline':>10}  ratio")
    for voting_type, method in METHODS.items():
        choices = list(method.choices) if isinstance(method, Basic) else CHOICES
        n = len(choices)
        votes = list(ballots(method, n, count, rng))
        baseline = best_of_three(lambda: sum((w for _, w in votes), Decimal(0)))
        recount = best_of_three(lambda: method.scores(method.count(n, votes)[0], n))

        def live():
            state = method.empty(n)
            for ballot, weight in votes:
                method.fold(state, ballot, weight)
            return method.scores(state, n)

        folded = best_of_three(live)
        slowest = max(slowest, recount)
        verdict = "ok" if recount < 1 else "SLOW"
        print(
            f"  {voting_type:<14} {recount * 1000:8.1f}ms {folded * 1000:8.1f}ms {baseline * 1000:8.1f}ms "
            f"{recount / baseline:6.1f}×  {verdict}"
        )
    return 0 if slowest < 1 else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
