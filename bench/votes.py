"""Signed votes accepted per second under load, against the bare call measured in the same run (issue 13).

A private anvil gets the demo contracts and `--voters` (400) fresh keys with 100 loyalty tokens each; a basic proposal
weighed by that balance opens, and its snapshot weights are read ahead (as the task queued at the opening does on a
worker). Every ballot is a real EIP-712 signature by its voter's key, each voter's ballots with rising timestamps (a
later vote replaces the earlier one). uvicorn serves with `--workers` workers; `--clients` keep-alive clients on
127.0.0.1 first request the bare `GET /api/v1/eip712` (the whole middleware stack, almost no work), then POST the
ballots round-robin over the voters, each voter behind its own forwarded address (so the per-address limit counts
voters, as behind a proxy), in turns with the bare call for --rounds rounds. Printed per round: votes/s, bare
req/s, the share (goal ≥ 40 %), p50/p99, answers by status; the median round's share, and every 201 checked against the rows after the run. Then one vote is profiled in this process against the same database (queries, and where the time goes), and, with --export, a closed proposal's
recount file with 10,000 real signed votes is timed against the home page (goal ≤ 5×).

Run: `.venv/bin/python bench/votes.py [--seconds 10] [--rounds 3] [--clients 20] [--voters 400] [--workers 2] [--production] [--export] [--in-process]`
(SQLite; about a minute), or with `--database-url postgres://…/EMPTY_DB --redis-url redis://…/N` (services mode).
`--in-process` skips the server and the load: only the votes in this process, unprofiled (wall and CPU time per vote
against the bare call's) and profiled, in about 20 seconds; CPU time stays steady when other work shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import socket
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

GOAL_SHARE = 0.40
GOAL_EXPORT = 5
BALLOTS_EACH = 18  # under VOTES_PER_MINUTE (20) per wallet per minute window
EXPORT_VOTES = 10_000
PROFILED_VOTES = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="of each phase of each round")
    parser.add_argument("--rounds", type=int, default=3, help="bare call and votes in turns, this many times")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--voters", type=int, default=400, help="each signs 18 ballots (the per-wallet limit)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="", help="an EMPTY PostgreSQL database (default: SQLite)")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--export", action="store_true", help="also time a closed 10,000-vote proposal's export")
    parser.add_argument("--production", action="store_true",
                        help="serve with DEBUG off (as deployed) instead of the development settings")
    parser.add_argument("--profile-out", default="", help="write the votes' cProfile stats to this file")
    parser.add_argument("--profile-cpu", action="store_true",
                        help="profile this process's CPU time instead of wall time (waits on the database left out)")
    parser.add_argument("--in-process", action="store_true",
                        help="only the in-process figures (no server, no load): quicker, and CPU time is steadier "
                             "than throughput on a busy machine")
    return parser.parse_args()


ARGS = _arguments()
TMP = tempfile.mkdtemp(prefix="bench-votes-")
CHAIN_PORT = _free_port()
os.environ["DATABASE_URL"] = ARGS.database_url or f"sqlite:///{TMP}/votes.sqlite3"
os.environ["CHAIN_RPC_URL"] = f"http://127.0.0.1:{CHAIN_PORT}"
if ARGS.in_process and ARGS.redis_url:  # the votes in this process use Redis as a server's would
    os.environ["REDIS_URL"] = ARGS.redis_url
else:
    os.environ.pop("REDIS_URL", None)  # this process writes rows and profiles; the servers own the cache and layers

import _django  # noqa: E402,F401  (sys.path, settings, a throw-away DEVCHAIN_DIR, django.setup())
from _load import load, request_bytes, sequential_ms, start_uvicorn, stop, wait_ready  # noqa: E402
from _voters import ballot, electorate  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from governance.devchain import start_anvil, stop_anvil  # noqa: E402
from governance.eip712 import eip712_domain  # noqa: E402
from governance.models import Vote  # noqa: E402


class Ballots:
    """The signed ballots, handed out round-robin over the voters; remembers which one each request carried."""

    def __init__(self, bodies: list[dict], *, port: int, path: str):
        self.requests = []
        self.carried: dict[int, dict] = {}
        for n, body in enumerate(bodies):
            voter_index = n % ARGS.voters
            request = request_bytes(path, port=port, method="POST", body=json.dumps(body).encode(), headers={
                "Content-Type": "application/json",
                "X-Forwarded-For": f"198.18.{voter_index // 250}.{voter_index % 250 + 1}",
            })
            self.requests.append(request)
            self.carried[id(request)] = body
        self.next = 0
        self.accepted: dict[str, int] = {}  # voter → the latest timestamp answered 201

    def make(self):
        if self.next >= len(self.requests):
            return None
        self.next += 1
        return self.requests[self.next - 1]

    def observe(self, request: bytes, status: int) -> None:
        body = self.carried[id(request)]
        if status == 201:
            voter = body["voter"]
            self.accepted[voter] = max(self.accepted.get(voter, 0), body["timestamp"])


def signed_ballots(world, *, rounds: int, first_timestamp: int) -> list[dict]:
    """`rounds` ballots per voter, round k of every voter before round k + 1, timestamps rising per voter."""
    domain = eip712_domain()
    return [
        ballot(voter, proposal=world.proposal.number, domain=domain, choice=str(k % 3 + 1),
               timestamp=first_timestamp + k)
        for k in range(rounds) for voter in world.voters
    ]


def server_env(world) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(DEBUG="1", ALLOWED_HOSTS="127.0.0.1,localhost", TRUSTED_PROXIES="127.0.0.1", LOG_LEVEL="WARNING",
               LOYALTY_TOKEN_ADDRESS=world.contracts["LoyaltyToken"],
               ACHIEVEMENT_BADGE_ADDRESS=world.contracts["AchievementBadge"],
               LENDING_POOL_ADDRESS=world.contracts["LendingPool"],
               PRICE_ORACLE_ADDRESS=world.contracts["DemoPriceOracle"])
    if ARGS.redis_url:
        env["REDIS_URL"] = ARGS.redis_url
    if ARGS.production:  # as a deployment runs: DEBUG off (Django then records no queries), its required settings
        env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), SIWE_DOMAIN="127.0.0.1", SECURE_SSL_REDIRECT="0")
    return env


def rows_check(world, ballots: Ballots) -> str:
    """Every voter answered 201 has a row holding the latest ballot answered 201 (a later one replaces it)."""
    connections.close_all()
    stored = dict(Vote.objects.filter(proposal=world.proposal, voter__in=list(ballots.accepted))
                  .values_list("voter", "timestamp"))
    holding = sum(1 for voter, ts in ballots.accepted.items() if stored.get(voter) == ts)
    lost = len(ballots.accepted) - holding
    return (f"voters answered 201: {len(ballots.accepted)}, their rows: {len(stored)}, holding the latest 201'd "
            f"ballot: {holding}{'' if not lost else f'   LOST OR STALE: {lost}'}")


def profile_votes(world, *, first_timestamp: int) -> None:
    """PROFILED_VOTES votes through the whole Django stack in this process (a server loop on a thread takes the
    coalesced tally, as under uvicorn): queries of one vote, and the time per vote by part."""
    from portal.live import server_loop_remember

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def remember():
        server_loop_remember()

    asyncio.run_coroutine_threadsafe(remember(), loop).result()
    domain = eip712_domain()
    voters = world.voters[:PROFILED_VOTES]
    bodies = [ballot(v, proposal=world.proposal.number, domain=domain, choice="1", timestamp=first_timestamp)
              for v in voters]
    client = Client(REMOTE_ADDR="127.0.0.1")
    path = f"/api/v1/proposals/{world.proposal.number}/votes"
    for n in range(10):  # warm: imports, templates, connections (timestamps later than any the load used)
        client.get("/api/v1/eip712")
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(path, bodies[0], content_type="application/json", REMOTE_ADDR=f"10.1.0.{1}")
    print(f"\none vote in this process: {answer.status_code}, {len(queries)} queries:")
    for query in queries.captured_queries:
        print(f"  {query['sql'][:150]}")
    half = len(bodies) // 2  # the first half unprofiled: wall and CPU time per vote against the bare call's
    started, cpu = time.perf_counter(), time.process_time()
    for n, body in enumerate(bodies[1:half], start=2):
        client.post(path, body, content_type="application/json", REMOTE_ADDR=f"10.1.{n // 250}.{n % 250 + 1}")
    wall_ms = (time.perf_counter() - started) / (half - 1) * 1000
    cpu_ms = (time.process_time() - cpu) / (half - 1) * 1000
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(half - 1):
        client.get("/api/v1/eip712")
    bare_wall = (time.perf_counter() - started) / (half - 1) * 1000
    bare_cpu = (time.process_time() - cpu) / (half - 1) * 1000
    print(f"\n{half - 1} votes one after another in this process, unprofiled: {wall_ms:.2f} ms a vote, of it "
          f"{cpu_ms:.2f} ms CPU in this process (bare GET /api/v1/eip712: {bare_wall:.2f} ms, {bare_cpu:.2f} ms CPU)")
    bodies = bodies[half - 1:]
    profiler = cProfile.Profile(time.process_time) if ARGS.profile_cpu else cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for n, body in enumerate(bodies[1:], start=half + 1):
        client.post(path, body, content_type="application/json", REMOTE_ADDR=f"10.1.{n // 250}.{n % 250 + 1}")
    profiler.disable()
    per_vote = (time.perf_counter() - started) / (len(bodies) - 1) * 1000
    bare_started = time.perf_counter()
    for _ in range(len(bodies) - 1):
        client.get("/api/v1/eip712")
    bare = (time.perf_counter() - bare_started) / (len(bodies) - 1) * 1000
    stats = pstats.Stats(profiler)
    if ARGS.profile_out:
        stats.dump_stats(ARGS.profile_out)
    parts = [
        ("the whole vote_cast service", "governance/services/votes.py", "vote_cast"),
        ("  EIP-712 hash and signer check", "governance/eip712.py", "check"),
        ("    of it: the EIP-712 digest", "governance/eip712.py", "vote_digest"),
        ("    of it: signer check (governance.signers)", "governance/signers.py", "signer_check"),
        ("  weight lookup (stored snapshot weight)", "governance/services/weights.py", "voter_weight"),
        ("  rate limits (cache)", "portal/ratelimit.py", "hit"),
        ("  the transaction: vote, webhooks, tally", "governance/services/votes.py", "_store_vote"),
        ("    of it: under the tally lock (to commit)", "governance/services/votes.py", "_tally_fold"),
        ("    of it: the commit", "django/db/backends/base/base.py", "commit"),
        ("  after commit: coalesced tally, webhooks", "django/db/backends/base/base.py", "run_and_clear_commit_hooks"),
        ("request parsing (ninja, pydantic)", "ninja/operation.py", "_get_values"),
        ("database execute (all queries)", "django/db/backends/utils.py", "_execute"),
    ]
    print(f"\n{len(bodies) - 1} votes one after another in this process: {per_vote:.2f} ms a vote "
          f"(bare GET /api/v1/eip712: {bare:.2f} ms); cumulative time per vote by part:")
    for label, file, name in parts:
        total = sum(row[3] for (path_, _, fn), row in stats.stats.items() if path_.endswith(file) and fn == name)
        print(f"  {label:<44} {total / (len(bodies) - 1) * 1000:>7.2f} ms")
    loop.call_soon_threadsafe(loop.stop)


def export_figure(world, *, port: int) -> None:
    """A closed proposal with EXPORT_VOTES real signed votes (distinct keys, signatures that verify), its export
    timed one request at a time against the home page's, first (computed and stored) and then from storage."""
    from eth_account import Account

    from governance.eip712 import SignedBallot
    from governance.models import Proposal
    from governance.services.closing import proposal_close_if_due

    domain = eip712_domain()
    closed = Proposal.objects.get(pk=world.proposal.pk)
    start = int(closed.start.timestamp())
    rows = []
    for n in range(EXPORT_VOTES):
        voter = Account.create()
        body = ballot(voter, proposal=closed.number + 1, domain=domain, choice=str(n % 3 + 1), timestamp=start + 1)
        signed = SignedBallot.from_fields(proposal=closed.number + 1, **body)
        rows.append((body, signed))
    # A second proposal, like the first, that ended: its votes are real signatures by keys that held no tokens
    # (the export does not read weights; its file holds the weight the portal counted).
    twin = Proposal.objects.create(
        number=closed.number + 1, title="Benchmark: a closed proposal with 10,000 votes", body="Closed.",
        voting_type="basic", start=closed.start, end=timezone.now() - timedelta(seconds=1),
        snapshot_block=closed.snapshot_block, snapshot_time=closed.snapshot_time, strategies=closed.strategies,
        quorum="0", activated_at=closed.activated_at,
    )
    Vote.objects.bulk_create([
        Vote(proposal=twin, voter=body["voter"], choice=body["choice"], reason="", timestamp=body["timestamp"],
             signature=body["signature"], receipt=signed.receipt(domain=domain), weight="1", weight_sort=1.0,
             payload={}, signer_kind="eoa")
        for body, signed in rows
    ], batch_size=2000)
    proposal_close_if_due(proposal=twin)
    connections.close_all()
    path = f"/api/v1/proposals/{twin.number}/export"
    load(port=port, path="/", clients=2, seconds=1.0)
    home = sequential_ms(port=port, path="/")
    first = sequential_ms(port=port, path=path, repeat=1)
    stored = sequential_ms(port=port, path=path)
    print(f"\nexport of a closed proposal with {EXPORT_VOTES:,} real signed votes, one request at a time, against the "
          f"home page's {home:.1f} ms:\n  first request (recounted, stored) {first:.0f} ms = {first / home:.1f}× home; "
          f"then from storage (median of 15) {stored:.1f} ms = {stored / home:.1f}× home "
          f"(goal ≤ {GOAL_EXPORT}×: {'met' if stored / home <= GOAL_EXPORT else 'NOT met'})")


def main() -> int:
    anvil = start_anvil(port=CHAIN_PORT)
    server = None
    try:
        call_command("migrate", verbosity=0)
        world = electorate(chain_url=os.environ["CHAIN_RPC_URL"], count=ARGS.voters, read_ahead=True)
        first_timestamp = int(time.time())
        if ARGS.in_process:
            profile_votes(world, first_timestamp=first_timestamp)
            return 0
        bodies = signed_ballots(world, rounds=BALLOTS_EACH, first_timestamp=first_timestamp)
        connections.close_all()
        port = _free_port()
        server = start_uvicorn(port, env=server_env(world), workers=ARGS.workers)
        wait_ready(port, server)
        path = f"/api/v1/proposals/{world.proposal.number}/votes"
        ballots = Ballots(bodies, port=port, path=path)
        for _ in range(ARGS.workers * 2):  # warm every worker (imports, templates, connections) with a few votes
            load(port=port, path="/api/v1/eip712", clients=4, seconds=0.5)
        load(port=port, clients=4, seconds=1.0, make_request=ballots.make, observe=ballots.observe)
        mode = "PostgreSQL + Redis" if ARGS.database_url else "SQLite, in-memory layer"
        print(f"uvicorn, {ARGS.workers} workers, {mode}; {ARGS.clients} keep-alive clients, {ARGS.seconds:g} s each; "
              f"{ARGS.voters} funded voters ({world.read_ahead} snapshot weights read ahead); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"{'round':<6}{'':<26} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
        shares, rounds = [], []
        for n in range(1, ARGS.rounds + 1):  # in turns, so a change in the machine's load falls on both
            bare = load(port=port, path="/api/v1/eip712", clients=ARGS.clients, seconds=ARGS.seconds)
            votes = load(port=port, clients=ARGS.clients, seconds=ARGS.seconds, make_request=ballots.make,
                         observe=ballots.observe)
            accepted = votes.statuses.get(201, 0) / votes.seconds
            ran_out = ballots.next >= len(ballots.requests)
            if not ran_out:  # a round the ballots ran out in measured an idle server for part of it: not counted
                shares.append(accepted / bare.per_second)
            rounds.append(votes)
            print(f"{n:<6}{'bare GET /api/v1/eip712':<26} {bare.per_second:>8.0f} {bare.p50_ms:>8.1f} "
                  f"{bare.p99_ms:>8.1f}  {bare.statuses}")
            print(f"{'':<6}{'votes accepted (201)':<26} {accepted:>8.1f} {votes.p50_ms:>8.1f} {votes.p99_ms:>8.1f}  "
                  f"{votes.statuses}   " + ("the ballots ran out: not counted" if ran_out else f"share {shares[-1]:.1%}"))
            if ran_out:
                break
        if not shares:
            print("the ballots ran out in the first round: run with more --voters")
            return 1
        share = sorted(shares)[len(shares) // 2]
        print(f"median share {share:.1%} of the bare call (rounds: {', '.join(f'{x:.1%}' for x in shares)}; goal ≥ "
              f"{GOAL_SHARE:.0%}: {'met' if share >= GOAL_SHARE else 'NOT met'}); load average "
              f"{os.getloadavg()[0]:.1f}{'; the ballots ran out' if ballots.next >= len(ballots.requests) else ''}")
        errors = {s: sum(r.statuses.get(s, 0) for r in rounds) for s in {s for r in rounds for s in r.statuses if s >= 400}}
        if errors:
            print(f"errors by status: {errors}")
        print(rows_check(world, ballots))
        profile_votes(world, first_timestamp=first_timestamp + BALLOTS_EACH)
        if ARGS.export:
            export_figure(world, port=port)
    finally:
        if server is not None:
            stop(server)
        stop_anvil(anvil)
    return 0


if __name__ == "__main__":
    sys.exit(main())
