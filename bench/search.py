"""Search benchmark: 100,000 comments and 10,000 proposals and feedback posts in the search index, queried through
portal.search.selectors.search as /search/ runs it (the match, its count per kind up to COUNT_CAP, each kind's newest
RANK_WINDOW matches ranked, one highlighted page) and as the API runs it (the same with an exact count), against a
plain primary-key lookup in the same run. Goal: p50 under 50 ms on PostgreSQL.

Run: `.venv/bin/python bench/search.py` (SQLite in a temporary file, then PostgreSQL when BENCH_POSTGRES_URL names an
empty database it may fill, e.g. postgres://postgres@127.0.0.1:5432/portal_bench; `--reuse` measures one it filled
before, `--postgres-only` skips SQLite). Each backend runs in its own process, so its settings are the ones the site
would have.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMENTS = 100_000
OTHERS = 10_000  # half proposals, half feedback posts
THREADS = 1_000
HIDDEN_THREADS = 10
RUNS = 200  # timed queries per query shape, as the page runs it
API_RUNS = 50  # and with the API's exact count
QUERIES = {
    "one common word": "collateral",
    "one rare word": "zircon",
    "two words": "oracle deviation",
    "phrase": '"reserve factor"',
    "word, minus a word": "liquidation -bonus",
}
COMMON = (
    "collateral liquidation oracle deviation reserve factor treasury quorum delegate vote proposal risk debt "
    "health borrow lend supply rate interest bonus market price feed governance token loyalty badge snapshot "
    "stable pool utilisation parameter threshold safety module audit upgrade grant community"
).split()


def _sentence(rng: random.Random, rare: list[str]) -> str:
    words = [rng.choice(COMMON) if rng.random() < 0.6 else rng.choice(rare) for _ in range(rng.randint(15, 60))]
    return " ".join(words).capitalize() + "."


def fill() -> None:
    from django.db import connection

    from portal.discussion.models import Category, Thread
    from portal.search.index import pairs_of, vector_of
    from portal.search.models import Kind, SearchEntry

    rng = random.Random(16)
    rare = [f"w{n:05d}" for n in range(20_000)] + ["zircon"] * 3
    category = Category.objects.get_or_create(slug="general", defaults={"name": "General"})[0]
    Thread.objects.bulk_create(
        Thread(category=category, title=f"Thread {n}", hidden=n < HIDDEN_THREADS) for n in range(THREADS)
    )
    thread_ids = list(Thread.objects.values_list("pk", flat=True))
    rows = [
        SearchEntry(kind=Kind.COMMENT, object_id=n, title=f"Comment in “Thread {n % THREADS}”", body=_sentence(rng, rare),
                    url=f"/discussion/t/{n}/", thread_id=rng.choice(thread_ids), hidden=rng.random() < 0.01)
        for n in range(COMMENTS)
    ]
    rows += [
        SearchEntry(kind=Kind.PROPOSAL if n % 2 else Kind.FEEDBACK, object_id=n,
                    title=" ".join(rng.choice(COMMON) for _ in range(6)).capitalize(), body=_sentence(rng, rare),
                    url=f"/x/{n}/")
        for n in range(OTHERS)
    ]
    if connection.vendor == "postgresql":
        for row in rows:  # the tsvector and its word pairs computed in the INSERT, as the site writes them
            row.vector = vector_of(row.title, row.body)
            row.pairs = pairs_of(vector_of(row.title, row.body))
    SearchEntry.objects.bulk_create(rows, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE search_searchentry" if connection.vendor == "postgresql" else "ANALYZE")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def measure() -> None:
    from django.core.management import call_command
    from django.db import connection

    from portal.discussion.selectors import Viewer
    from portal.search.models import SearchEntry
    from portal.search.selectors import search

    call_command("migrate", verbosity=0)
    filled = SearchEntry.objects.count()
    if filled and not (os.environ.get("BENCH_SEARCH_REUSE") and filled == COMMENTS + OTHERS):
        sys.exit("The benchmark database is not empty; give it an empty one (or --reuse one this script filled).")
    if filled:
        print(f"{connection.vendor}: reusing the {filled:,} entries this script wrote before")
    else:
        started = time.perf_counter()
        fill()
        print(f"{connection.vendor}: {SearchEntry.objects.count():,} entries written and indexed in "
              f"{time.perf_counter() - started:.0f} s")
    rng = random.Random(7)
    ids = list(SearchEntry.objects.values_list("pk", flat=True))
    baseline = []
    for _ in range(RUNS * 5):
        pk = rng.choice(ids)
        begin = time.perf_counter()
        SearchEntry.objects.get(pk=pk)
        baseline.append((time.perf_counter() - begin) * 1000)
    base50, base99 = percentiles(baseline)
    print(f"  primary-key lookup (baseline): p50 {base50:.2f} ms, p99 {base99:.2f} ms")
    viewer = Viewer()
    for name, query in QUERIES.items():
        for runs, exact in ((RUNS, False), (API_RUNS, True)):
            search(query=query, viewer=viewer, exact_count=exact)  # warm
            samples, results = [], None
            for _ in range(runs):
                begin = time.perf_counter()
                results = search(query=query, viewer=viewer, exact_count=exact)
                samples.append((time.perf_counter() - begin) * 1000)
            p50, p99 = percentiles(samples)
            shape = "API, exact count" if exact else "page"
            print(f"  {name:<20} {query!r:<22} {shape:<16} {results.count_text:>7} matches: p50 {p50:6.1f} ms "
                  f"({p50 / base50:,.0f}x), p99 {p99:6.1f} ms")
    print(f"  load average (1, 5, 15 min): {', '.join(f'{n:.1f}' for n in os.getloadavg())}")


def main() -> None:
    if os.environ.get("BENCH_SEARCH_CHILD"):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import _django  # noqa: F401 — Django set up for this process's DATABASE_URL

        measure()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-only", action="store_true", help="skip the SQLite run")
    parser.add_argument("--reuse", action="store_true",
                        help="measure BENCH_POSTGRES_URL as an earlier run of this script filled it")
    options = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
        if not options.postgres_only:
            targets.append(f"sqlite:///{folder}/search.sqlite3")
        if os.environ.get("BENCH_POSTGRES_URL"):
            targets.append(os.environ["BENCH_POSTGRES_URL"])
        for url in targets:
            env = {**os.environ, "BENCH_SEARCH_CHILD": "1", "DATABASE_URL": url,
                   "BENCH_SEARCH_REUSE": "1" if options.reuse and url.startswith("postgres") else ""}
            env.pop("REDIS_URL", None)
            subprocess.run([sys.executable, __file__], env=env, check=True)


if __name__ == "__main__":
    main()
