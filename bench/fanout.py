"""Live fan-out benchmark: N websocket clients on one thread, one comment posted over HTTP, time until every client
has it (p50, p99, max). Goal: 1,000 clients, p99 under 250 ms.

Layers: `memory` (one server process, in-memory channel layer, every client on it) and `redis` (two server
processes sharing Redis; clients split across both, the comment posted to the first).

Run: `.venv/bin/python bench/fanout.py [--clients 100 1000] [--layers memory redis] [--redis-url URL]
[--server uvicorn|daphne] [--deflate]` (`redis` needs --redis-url or REDIS_URL). Clients only connect to 127.0.0.1;
at most 2,000 of them. Latency is measured from just before the HTTP POST of the comment to its arrival at each client.
A throwaway SQLite database in a temp directory is used unless --database-url is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _load import wait_ready  # noqa: E402  (bench/ is on the path when a script in it runs)

MAX_CLIENTS = 2000
DELIVERY_TIMEOUT = 30.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_database(database_url: str) -> tuple[int, str]:
    """Migrate, create a thread and a signed-in member; return (thread id, session cookie value)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("REDIS_URL", None)  # this process only writes rows; the servers own the layers
    # bench/_django sets Django up with the siwe library loaded first: bench/siwe.py would stand in for it.
    import _django  # noqa: F401
    import secrets

    from django.core.management import call_command
    from django.test import Client

    from portal.accounts.models import User
    from portal.discussion.services import thread_create

    call_command("migrate", verbosity=0)
    thread = thread_create(title="Fan-out benchmark", category_slug="general", author=None)
    import datetime

    from django.utils import timezone

    # An established account: the benchmark posts a few comments a minute, under the normal rate limit.
    user = User.objects.create(username="0x" + secrets.token_hex(20), date_joined=timezone.now() - datetime.timedelta(days=90))
    client = Client()
    client.force_login(user)
    return thread.pk, client.cookies["sessionid"].value


def start_server(port: int, *, database_url: str, redis_url: str | None, server: str, deflate: bool) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DEBUG="1", DATABASE_URL=database_url, ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING",
               CHAIN_RPC_URL=os.environ.get("CHAIN_RPC_URL", "http://127.0.0.1:9"))
    if redis_url:
        env["REDIS_URL"] = redis_url
    if server == "daphne":  # what `make run` serves with
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", "portal.asgi:application"]
    else:
        command = [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                   "--log-level", "warning", "--lifespan", "off", "--backlog", "4096", "--ws-per-message-deflate", "true" if deflate else "false"]
    return subprocess.Popen(
        command,
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def prepare_post(port: int, thread_id: int, session: str):
    """Fetch the CSRF token before the clock starts, so the timing covers only the POST and the fan-out."""
    base = f"http://127.0.0.1:{port}"
    page = urllib.request.urlopen(
        urllib.request.Request(f"{base}/discussion/t/{thread_id}/", headers={"Cookie": f"sessionid={session}"})
    )
    csrf = re.search(r"csrftoken=([^;]+)", page.headers.get("Set-Cookie", "")).group(1)

    def send(body: str) -> int:
        request = urllib.request.Request(
            f"{base}/api/v1/threads/{thread_id}/comments", data=json.dumps({"body": body}).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": csrf,
                     "Cookie": f"sessionid={session}; csrftoken={csrf}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    return send


async def run_round(
    *, ports: list[int], thread_id: int, session: str, clients: int, deflate: bool = False
) -> tuple[list[float], float]:
    import websockets

    sockets = []
    try:
        for n in range(clients):
            port = ports[n % len(ports)]
            socket = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/threads/{thread_id}/", origin=f"http://127.0.0.1:{port}",
                open_timeout=30, max_queue=None, compression="deflate" if deflate else None,
            )
            sockets.append(socket)
            await asyncio.wait_for(socket.recv(), 30)  # this socket's own presence count
        await asyncio.sleep(2.0)  # let the coalesced presence broadcasts go out, then drain them
        for socket in sockets:
            while True:
                try:
                    await asyncio.wait_for(socket.recv(), 0.001)
                except (asyncio.TimeoutError, TimeoutError):
                    break

        marker = f"fanout-{time.time_ns()}"
        send = await asyncio.to_thread(prepare_post, ports[0], thread_id, session)
        arrivals: list[float] = []

        async def wait_for_marker(socket):
            while True:
                message = await socket.recv()
                if marker in message:
                    arrivals.append(time.perf_counter())
                    return

        waiters = [asyncio.create_task(wait_for_marker(socket)) for socket in sockets]
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        cpu_started = time.process_time()
        status = await asyncio.to_thread(send, f"Benchmark comment {marker}")
        answered = time.perf_counter()
        assert status == 201, status
        await asyncio.wait_for(asyncio.gather(*waiters), DELIVERY_TIMEOUT)
        print(f"  (benchmark client CPU during the round: {(time.process_time() - cpu_started) * 1000:.0f} ms)")
        return [(t - started) * 1000 for t in arrivals], (answered - started) * 1000
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--layers", nargs="+", choices=["memory", "redis"], default=["memory", "redis"])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="uvicorn")
    parser.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate, as browsers do")
    args = parser.parse_args()
    if any(n < 1 or n > MAX_CLIENTS for n in args.clients):
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if "redis" in args.layers and not args.redis_url:
        print("skipping the redis layer: give --redis-url or set REDIS_URL")
        args.layers = [layer for layer in args.layers if layer != "redis"]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * MAX_CLIENTS + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the server processes inherit it

    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/fanout.sqlite3"
        thread_id, session = setup_database(database_url)
        print(f"{args.server}{' with permessage-deflate' if args.deflate else ''}; load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs; "
              "comment posted over HTTP to process 1")
        print(f"{'layer':<8} {'processes':>9} {'clients':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'POST ms':>9}")
        for layer in args.layers:
            count = 1 if layer == "memory" else 2
            ports = [free_port() for _ in range(count)]
            redis_url = args.redis_url if layer == "redis" else None
            processes = [start_server(p, database_url=database_url, redis_url=redis_url, server=args.server, deflate=args.deflate) for p in ports]
            try:
                for port, process in zip(ports, processes, strict=True):
                    wait_ready(port, process, path="/api/v1/openapi.json")  # no chain here: eip712 would 503
                # Warm-up: first requests compile templates and open connections in every process.
                asyncio.run(run_round(ports=ports, thread_id=thread_id, session=session, clients=2 * count))
                for clients in args.clients:
                    latencies, post_ms = asyncio.run(
                        run_round(ports=ports, thread_id=thread_id, session=session, clients=clients, deflate=args.deflate)
                    )
                    print(f"{layer:<8} {count:>9} {clients:>8} {statistics.median(latencies):>8.1f} "
                          f"{percentile(latencies, 99):>8.1f} {max(latencies):>8.1f} {post_ms:>9.1f}", flush=True)
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
