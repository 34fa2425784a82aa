"""Pages under load, each against a bare view measured in the same run (issue 13's page figures).

A fresh anvil and a throw-away SQLite database get the demo content (`seed_demo`), plus a thread with 1,000
comments, one with 10, and 10,000 votes on the closed proposal. uvicorn serves them with 2 workers; 50 keep-alive
clients on 127.0.0.1 request each page for a few seconds, right after the bare call for as long. Printed per page:
requests per second, the bare call's just before it, and the share of that bare call (`GET /api/v1/eip712`, the
whole middleware stack and almost no work), and for the thread and export figures the single-request time against
the home page's.

Run: `.venv/bin/python bench/pages.py [--seconds 4] [--clients 50] [--production]` (SQLite, in-memory layer; about a
two minutes), or with `--database-url postgres://…/EMPTY_DB --redis-url redis://…/N` (services mode: the seeding
runs against that database, and the servers get REDIS_URL for their cache and channel layer).
`--production` serves as deployed: DEBUG off, with the static files collected (into staticfiles/, as the README's
Deploying section does).
`--profile` prints instead a cProfile of 200 requests of each page in process (Django's test client, no server).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="profile each page in process instead of serving it")
    parser.add_argument("--production", action="store_true",
                        help="serve with DEBUG off (as deployed) instead of the development settings")
    parser.add_argument("--database-url", default="", help="an EMPTY PostgreSQL database (default: SQLite)")
    parser.add_argument("--redis-url", default="", help="the servers' Redis (default: in-memory layer and cache)")
    return parser.parse_args()


ARGS = _arguments()
TMP = tempfile.mkdtemp(prefix="bench-pages-")
CHAIN_PORT = _free_port()
os.environ["DATABASE_URL"] = ARGS.database_url or f"sqlite:///{TMP}/pages.sqlite3"
os.environ["CHAIN_RPC_URL"] = f"http://127.0.0.1:{CHAIN_PORT}"
os.environ.pop("REDIS_URL", None)  # this process seeds (and profiles); the servers own the cache and layers

import _django  # noqa: E402,F401  (sys.path, settings, a throw-away DEVCHAIN_DIR, django.setup())
from _load import load, sequential_ms, start_uvicorn, stop, wait_ready  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from governance.devchain import start_anvil, stop_anvil  # noqa: E402

GOAL_SHARE = 0.50


def seed() -> dict:
    """Demo content plus the big thread, the small one and the 10,000-vote closed proposal; returns their paths."""
    from portal.accounts.models import User
    from portal.discussion.models import Comment
    from portal.discussion.services import thread_create
    from governance.models import Proposal, Vote

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    authors = list(User.objects.filter(username__startswith="0x")[:5])
    start = timezone.now() - timedelta(days=2)
    threads = {}
    for size in (10, 1000):
        thread = thread_create(title=f"A thread with {size} comments", category_slug="general", author=None)
        for n in range(size):
            Comment(thread=thread, author=authors[n % len(authors)], body=f"Point **{n}**: keep the reserve factor.",
                    created=start + timedelta(seconds=n)).save()
        threads[size] = thread.get_absolute_url()
    closed = next(p for p in Proposal.objects.order_by("number") if p.end < timezone.now())
    Vote.objects.bulk_create(
        [
            Vote(proposal=closed, voter="0x" + secrets.token_hex(20), choice="1", reason="", timestamp=int(closed.start.timestamp()) + 1,
                 signature="0x" + "11" * 65, receipt="0x" + secrets.token_hex(32), weight="1", weight_sort=1.0,
                 payload={}, signer_kind="eoa")
            for _ in range(10_000)
        ],
        batch_size=2000,
    )
    active = next(p for p in Proposal.objects.order_by("number") if p.start <= timezone.now() < p.end)
    return {
        "thread_10": threads[10], "thread_1000": threads[1000], "proposal": active.get_absolute_url(),
        "export": f"/api/v1/proposals/{closed.number}/export",
    }


def page_paths(paths: dict) -> list[tuple[str, str]]:
    return [
        ("/proposals/", "/proposals/"), ("a proposal", paths["proposal"]), ("/feedback/", "/feedback/"),
        ("/api/v2/summary.json", "/api/v2/summary.json"), ("/status/", "/status/"),
        ("thread, 10 comments", paths["thread_10"]), ("thread, 1,000 comments", paths["thread_1000"]),
    ]


def profile(paths: dict, requests: int = 200) -> int:
    """The bare call and each page through Django's test client, 200 times each after a warm-up, under cProfile."""
    import cProfile
    import pstats
    import time

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    for name, path in [("bare", "/api/v1/eip712"), *page_paths(paths)]:
        for _ in range(5):
            client.get(path)
        started = time.perf_counter()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(path)
        profiler.disable()
        print(f"\n=== {name} ({path}): {(time.perf_counter() - started) / requests * 1000:.2f} ms a request (profiled)")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 0


def main() -> int:
    args = ARGS
    anvil = start_anvil(port=CHAIN_PORT)
    server = None
    try:
        paths = seed()
        if args.profile:
            return profile(paths)
        connections.close_all()  # PostgreSQL: the seeding's connection is not held while the servers run
        port = _free_port()
        env = {**os.environ, "DEBUG": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        if args.production:  # as a deployment runs: DEBUG off (Django then records no queries), its required settings
            env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), SIWE_DOMAIN="127.0.0.1", SECURE_SSL_REDIRECT="0")
            # and the hashed, compressed static files a deployment collects (README: Deploying) into staticfiles/
            subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, check=True,
                           cwd=Path(__file__).resolve().parent.parent)
        server = start_uvicorn(port, env=env, workers=2)
        wait_ready(port, server)
        pages = page_paths(paths)
        for _, path in [("bare", "/api/v1/eip712"), ("home", "/"), *pages, ("export", paths["export"])]:
            load(port=port, path=path, clients=4, seconds=1.0)  # warm every worker's templates and caches
        mode = "PostgreSQL" if args.database_url else "SQLite"
        mode += " + Redis" if args.redis_url else ", in-memory layer"
        print(f"uvicorn, 2 workers, {mode}, DEBUG {'off' if args.production else 'on'}; {args.clients} keep-alive clients, {args.seconds:g} s a page; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        # The bare call is measured right before each page, so a change in the machine's load between pages falls
        # on both figures of a row and its share, not on the shares of the pages after it.
        print(f"{'page':<24} {'req/s':>8} {'bare':>8} {'of bare':>8} {'goal':>6}  statuses")
        for name, path in pages:
            bare = load(port=port, path="/api/v1/eip712", clients=args.clients, seconds=args.seconds)
            result = load(port=port, path=path, clients=args.clients, seconds=args.seconds)
            share = result.per_second / bare.per_second
            print(f"{name:<24} {result.per_second:>8.0f} {bare.per_second:>8.0f} {share:>8.0%} "
                  f"{'met' if share >= GOAL_SHARE else 'NOT':>6}  {result.statuses}"
                  f"{'' if set(bare.statuses) == {200} else f'  (bare: {bare.statuses})'}")
        home = sequential_ms(port=port, path="/")
        print(f"\none request at a time (median of 15), against the home page's {home:.1f} ms:")
        for name, path, goal in [("thread, 10 comments", paths["thread_10"], 3), ("thread, 1,000 comments", paths["thread_1000"], 3),
                                 ("export, closed, 10,000 votes", paths["export"], 5)]:
            ms = sequential_ms(port=port, path=path)
            print(f"{name:<30} {ms:>8.1f} ms {ms / home:>6.1f}× home (goal ≤ {goal}×: {'met' if ms / home <= goal else 'NOT met'})")
    finally:
        if server is not None:
            stop(server)
        stop_anvil(anvil)
    return 0


if __name__ == "__main__":
    sys.exit(main())
