"""Load benchmark: N concurrent clients (default 200) for a bounded time against the portal served by uvicorn, with a
realistic mix, then every 2xx write checked against the rows in the database.

The mix, per client (each client is one signed-in member with its own wallet, session and forwarded address):
pages (home, proposal list, a proposal, a thread, status, feedback board) about 70 %, and writes: a comment on the
thread (at most one every 6 s per member, under the discussion rate limit), a signed EIP-712 vote on an open proposal
(each client is a distinct voter funded with loyalty tokens at the snapshot block), an up-vote on a feedback post
(each post once per member). Think time 0–1 s between requests.

Modes: `embedded` (SQLite, in-memory channel layer, one uvicorn worker, as `make run`) and `services` (PostgreSQL +
Redis, several uvicorn workers; needs --database-url postgres://… of an EMPTY database it may migrate and fill, and
--redis-url). Each mode first runs the same mix with one client (the same-run baseline), then with N clients.

Prints requests, requests/s, errors by status, p50/p99 latency, and rows visible against 2xx writes.
Run: `.venv/bin/python bench/load.py [--clients 200] [--seconds 60] [--baseline-seconds 15] [--modes embedded services]
[--database-url URL] [--redis-url URL] [--workers 3]`. Traffic goes to 127.0.0.1 only; at most 1,000 clients and
600 s; a private anvil on a free port is the chain.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import io
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_CLIENTS, MAX_SECONDS = 1000, 600
COMMENT_EVERY = 6.0  # seconds between one member's comments: 10 a minute, under DISCUSSION_POSTS_PER_MINUTE (12)
FEEDBACK_POSTS = 12
BALLOTS_EACH = 12  # a vote is about one request in ten: enough for a 10-minute run at the think time below


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Member:
    index: int
    session: str
    csrf: str
    address: str
    forwarded_for: str
    ballots: list[dict]
    upvotes_left: list[int] = field(default_factory=list)
    last_comment: float = 0.0

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.session}; csrftoken={self.csrf}", "X-CSRFToken": self.csrf,
                "X-Forwarded-For": self.forwarded_for}


@dataclass
class World:
    """What the set-up made: ids to aim at and the members who act."""
    proposal: int
    thread: int
    posts: list[int]
    members: list[Member]


def prepare(*, database_url: str, chain_url: str, clients: int) -> World:
    """Migrate, fund `clients` fresh voters on the chain, open a proposal weighed by their balances, and create the
    thread, feedback posts and signed-in members (run once per mode, in this process)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["CHAIN_RPC_URL"] = chain_url
    os.environ.pop("REDIS_URL", None)  # this process only writes rows; the servers own the cache and layers
    sys.path.insert(0, str(ROOT))
    import bench._django  # noqa: F401  (settings, DEVCHAIN_DIR)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client
    from django.utils import timezone

    from bench._voters import ballot, electorate
    from governance.eip712 import eip712_domain
    from portal.accounts.models import User
    from portal.discussion.services import thread_create
    from portal.feedback.models import Post

    call_command("migrate", verbosity=0)
    voters_made = electorate(chain_url=chain_url, count=clients, read_ahead=False)
    admin, proposal, voters = voters_made.admin, voters_made.proposal, voters_made.voters
    now = timezone.now()
    thread = thread_create(title="Load test thread", category_slug="general", author=None)
    posts = [Post.objects.create(author=admin, kind="idea", title=f"Load test idea {n}", body="An idea.").pk
             for n in range(FEEDBACK_POSTS)]
    domain = eip712_domain()
    ts = int(time.time())
    members = []
    for n, voter in enumerate(voters):
        user = User.objects.create(username=voter.address, date_joined=now - datetime.timedelta(days=90))
        client = Client()
        client.force_login(user)
        ballots = []
        for k in range(BALLOTS_EACH):  # each a new signed vote (a resent one is refused); valid for 10 minutes
            ballots.append(ballot(voter, proposal=proposal.number, domain=domain, choice=str(k % 3 + 1),
                                  timestamp=ts + k))
        members.append(Member(
            index=n, session=client.cookies[settings.SESSION_COOKIE_NAME].value, csrf=secrets.token_hex(16),
            address=voter.address, forwarded_for=f"198.18.{n // 250}.{n % 250 + 1}", ballots=ballots,
            upvotes_left=random.sample(posts, len(posts)),
        ))
    connections.close_all()
    return World(proposal=proposal.number, thread=thread.pk, posts=posts, members=members)


def start_servers(*, port: int, workers: int, database_url: str, redis_url: str | None, chain_url: str,
                  contracts: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(DEBUG="1", DATABASE_URL=database_url, CHAIN_RPC_URL=chain_url, TRUSTED_PROXIES="127.0.0.1",
               ALLOWED_HOSTS="127.0.0.1,localhost", LOYALTY_TOKEN_ADDRESS=contracts["LoyaltyToken"],
               ACHIEVEMENT_BADGE_ADDRESS=contracts["AchievementBadge"], LENDING_POOL_ADDRESS=contracts["LendingPool"],
               PRICE_ORACLE_ADDRESS=contracts["DemoPriceOracle"])
    if redis_url:
        env["REDIS_URL"] = redis_url
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "error", "--lifespan", "off", "--backlog", "4096"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def wait_ready(base: str, process: subprocess.Popen) -> None:
    import aiohttp

    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the server exited with {process.returncode}")
            try:
                async with http.get(f"{base}/proposals/", timeout=aiohttp.ClientTimeout(total=10)) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("the server did not answer within 120 s")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    comments: set[int] = field(default_factory=set)  # ids answered 201
    voters: set[str] = field(default_factory=set)  # voters with a 201 vote
    upvotes: set[tuple[int, str]] = field(default_factory=set)  # (post, member address) answered 201
    requests: int = 0
    samples: dict = field(default_factory=dict)  # the first answer of each error status


def sentence_of(payload: bytes) -> str:
    """The error sentence of a JSON answer or of the site's refusal page."""
    text = payload.decode(errors="replace")
    if 'data-testid="refusal">' in text:
        return text.split('data-testid="refusal">', 1)[1].split("</p>", 1)[0]
    return text[:160]


async def client_loop(http, base: str, world: World, member: Member, until: float, tally: Tally) -> None:
    import aiohttp

    pages = ["/", "/proposals/", f"/proposals/{world.proposal}/", f"/discussion/t/{world.thread}/", "/status/",
             "/feedback/"]
    while time.monotonic() < until:
        roll = random.random()
        now = time.monotonic()
        if roll < 0.10 and now - member.last_comment >= COMMENT_EVERY:
            member.last_comment = now
            kind, method, url = "comment", "POST", f"/api/v1/threads/{world.thread}/comments"
            body = {"body": f"Load test comment from member {member.index} at {time.time():.3f}"}
        elif roll < 0.20 and member.ballots:
            kind, method, url = "vote", "POST", f"/api/v1/proposals/{world.proposal}/votes"
            body = member.ballots.pop(0)
        elif roll < 0.30 and member.upvotes_left:
            post = member.upvotes_left.pop()
            kind, method, url, body = "upvote", "POST", f"/api/v1/feedback/{post}/vote", None
        else:
            kind, method, url, body = "page", "GET", random.choice(pages), None
        started = time.monotonic()
        try:
            async with http.request(method, base + url, json=body, headers=member.headers(),
                                    timeout=aiohttp.ClientTimeout(total=60)) as response:
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            status, payload = f"connection ({type(exc).__name__})", b""
        tally.latencies.append(time.monotonic() - started)
        tally.requests += 1
        tally.statuses[status] += 1
        if isinstance(status, int) and status >= 400 and status not in tally.samples:
            tally.samples[status] = f"{kind} {url}: {sentence_of(payload)}"
        if status == 201:
            if kind == "comment":
                tally.comments.add(json.loads(payload)["id"])
            elif kind == "vote":
                tally.voters.add(member.address)
            elif kind == "upvote":
                tally.upvotes.add((post, member.address))
        await asyncio.sleep(random.random())


async def run_clients(base: str, world: World, members: list[Member], seconds: float) -> tuple[Tally, float]:
    import aiohttp

    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(client_loop(http, base, world, m, until, tally) for m in members))
        return tally, time.monotonic() - started


def visible_rows(*, database_url: str, world: World, tally: Tally) -> dict[str, tuple[int, int]]:
    """(2xx writes, of those visible as rows) per kind, read from the database after the run."""
    from django.db import connections

    from governance.models import Vote
    from portal.discussion.models import Comment
    from portal.feedback.models import Vote as Upvote

    connections.close_all()
    comments = set(Comment.objects.filter(pk__in=tally.comments).values_list("pk", flat=True))
    voters = set(Vote.objects.filter(proposal__number=world.proposal, voter__in=tally.voters)
                 .values_list("voter", flat=True))
    upvotes = set(Upvote.objects.filter(post_id__in=world.posts, user__username__in={a for _, a in tally.upvotes})
                  .values_list("post_id", "user__username"))
    connections.close_all()
    return {
        "comments": (len(tally.comments), len(comments)),
        "votes (distinct voters)": (len(tally.voters), len(voters)),
        "up-votes": (len(tally.upvotes), len(upvotes & tally.upvotes)),
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def errors_text(statuses: Counter) -> str:
    bad = {status: n for status, n in statuses.items() if not (isinstance(status, int) and status < 400)}
    return ", ".join(f"{status}: {n}" for status, n in sorted(bad.items(), key=str)) or "none"


def report_line(label: str, clients: int, tally: Tally, elapsed: float) -> str:
    return (f"  {label:<9} {clients:>5} clients  {tally.requests:>6} requests  {tally.requests / elapsed:>6.1f}/s  "
            f"p50 {percentile(tally.latencies, .5) * 1000:>7.0f} ms  p99 {percentile(tally.latencies, .99) * 1000:>7.0f} ms"
            f"  errors: {errors_text(tally.statuses)}")


def run_mode(mode: str, args) -> None:
    """One mode in this process (Django is set up once per process, for that mode's database), on its own anvil."""
    from governance.devchain import start_anvil, stop_anvil

    chain_port = free_port()
    anvil = start_anvil(port=chain_port)
    try:
        _run_mode(mode, args, f"http://127.0.0.1:{chain_port}")
    finally:
        stop_anvil(anvil)


def _run_mode(mode: str, args, chain_url: str) -> None:
    if mode == "services":
        if not (args.database_url and args.redis_url):
            raise SystemExit("services mode needs --database-url postgres://… (an empty database) and --redis-url")
        database_url, redis_url, workers = args.database_url, args.redis_url, args.workers
        label = f"PostgreSQL + Redis, {workers} uvicorn workers"
    else:
        database_url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-load-')}/db.sqlite3"
        redis_url, workers, label = None, 1, "SQLite, in-memory channel layer, 1 uvicorn worker"
    print(f"\n{mode}: {label}; setting up {args.clients} members and voters …", flush=True)
    world = prepare(database_url=database_url, chain_url=chain_url, clients=args.clients)
    from django.conf import settings

    port = free_port()
    server = start_servers(port=port, workers=workers, database_url=database_url, redis_url=redis_url,
                           chain_url=chain_url, contracts=settings.PORTAL["CONTRACTS"])
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_ready(base, server))
        baseline, baseline_elapsed = asyncio.run(run_clients(base, world, world.members[:1], args.baseline_seconds))
        load, elapsed = asyncio.run(run_clients(base, world, world.members, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(report_line("baseline", 1, baseline, baseline_elapsed))
    print(report_line("load", args.clients, load, elapsed))
    for status, sample in sorted({**baseline.samples, **load.samples}.items()):
        print(f"    first {status}: {sample}")
    for kind, (written, visible) in visible_rows(database_url=database_url, world=world, tally=load).items():
        print(f"  {kind:<24} answered 201: {written:>5}   visible as rows after the run: {visible:>5}"
              f"{'' if written == visible else '   LOST: ' + str(written - visible)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=15)
    parser.add_argument("--modes", nargs="+", choices=["embedded", "services"], default=["embedded"])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.seconds <= MAX_SECONDS:
        raise SystemExit(f"--clients must be 1 … {MAX_CLIENTS} and --seconds at most {MAX_SECONDS}")
    sys.path.insert(0, str(ROOT))
    if len(args.modes) == 1:
        run_mode(args.modes[0], args)
        return
    for mode in args.modes:  # each in a process of its own
        command = [sys.executable, __file__, "--modes", mode, "--clients", str(args.clients), "--seconds",
                   str(args.seconds), "--baseline-seconds", str(args.baseline_seconds), "--workers", str(args.workers),
                   "--database-url", args.database_url, "--redis-url", args.redis_url]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
