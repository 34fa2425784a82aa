"""Durable effects benchmark: what queueing an effect adds to a write, and how many effects one `db_worker` clears a
second, each against a same-run baseline.

- notifications: N writes that each create one notification directly (`notify`, bell push included: what the old
  after-commit hook cost the request; the baseline) against N writes that each queue it (`notify_later`, with and
  without the attempt right after commit); one real `manage.py db_worker --batch` drains the queue (its start-up,
  timed on an empty queue in the same run, is subtracted).
- webhooks: N signed POSTs to a local receiver with a bare `requests.post` loop (the baseline) against N deliveries
  queued and drained by one worker the same way.

Run: `.venv/bin/python bench/effects.py [--count 500] [--database-url URL]` (a throwaway SQLite file by default; a
given database must be empty: the bench migrates it and fills it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    database_url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-effects-')}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ["PORTAL_BENCH"] = "1"
    sys.path.insert(0, str(ROOT / "bench"))
    import _django  # noqa: F401 — Django set up with dev settings

    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    settings.PORTAL = {**settings.PORTAL, "EFFECTS_EAGER": False}  # the worker runs everything, as measured
    call_command("migrate", verbosity=0)
    from portal.accounts.models import User
    from portal.effects.models import Effect
    from portal.health.models import Webhook
    from portal.health.webhooks import webhooks_send
    from portal.notifications.models import Notification
    from portal.notifications.services import notify, notify_later

    if User.objects.exists():
        sys.exit("bench/effects.py needs an empty database (it counts every row it finds); give a fresh one.")
    n = args.count
    users = User.objects.bulk_create([User(username=f"bench-{i}-{time.time_ns()}") for i in range(n)])
    users = list(User.objects.filter(username__in=[u.username for u in users]))
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url, "CHAIN_RPC_URL": "http://127.0.0.1:9"}
    worker = [sys.executable, "manage.py", "db_worker", "--no-reload", "--batch", "--no-startup-delay", "-v", "0"]

    def drain() -> float:
        started = time.perf_counter()
        subprocess.run(worker, cwd=ROOT, env=env, check=True)
        return time.perf_counter() - started

    startup = min(drain() for _ in range(2))  # an empty queue: what start-up and the exit cost

    started = time.perf_counter()
    for user in users:
        with transaction.atomic():
            notify(recipients=[user], verb="comment_reply", text="direct", url="/")
    direct = time.perf_counter() - started
    started = time.perf_counter()
    for user in users:
        with transaction.atomic():
            notify_later(recipients=[user], verb="comment_reply", text="queued", url="/")
    queued = time.perf_counter() - started
    ran = drain() - startup
    assert Notification.objects.filter(text="queued").count() == n, "every queued notification delivered once"
    settings.PORTAL = {**settings.PORTAL, "EFFECTS_EAGER": True}  # the default: also tried right after commit
    started = time.perf_counter()
    for user in users:
        with transaction.atomic():
            notify_later(recipients=[user], verb="comment_reply", text="eager", url="/")
    eager = time.perf_counter() - started
    assert Notification.objects.filter(text="eager").count() == n
    settings.PORTAL = {**settings.PORTAL, "EFFECTS_EAGER": False}
    drain()  # the eager runs' tasks, already settled: nothing left to do
    print(f"notifications, {n} writes (database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})")
    print(f"  baseline: notify() in the write      {direct / n * 1000:7.2f} ms per write")
    print(f"  notify_later() in the write           {queued / n * 1000:7.2f} ms per write "
          f"({queued / direct:.2f}× the baseline: the task and ledger row, no push)")
    print(f"  notify_later(), tried after commit    {eager / n * 1000:7.2f} ms per write "
          f"({eager / direct:.2f}× the baseline; the default)")
    print(f"  one db_worker drains them             {n / ran:7.1f} notifications/s "
          f"(start-up {startup:.2f} s excluded)")

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            hits.append(1)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    import requests

    started = time.perf_counter()
    for _ in range(n):
        requests.post(url, data=b'{"meta":{}}', headers={"Content-Type": "application/json"}, timeout=5)
    bare = time.perf_counter() - started
    Webhook.objects.create(url=url)
    hits.clear()
    for i in range(n):
        with transaction.atomic():
            webhooks_send(event="component.updated", payload={"component": {"id": i}})
    ran = drain() - startup
    assert len(hits) == n and not Effect.objects.exclude(state="done").exists(), "every delivery sent once"
    print(f"webhooks, {n} deliveries to a local receiver")
    print(f"  baseline: bare requests.post loop     {n / bare:7.1f} POSTs/s")
    print(f"  one db_worker (fan-out + delivery)    {n / ran:7.1f} deliveries/s ({ran / bare:.0f}× the baseline's time)")
    server.shutdown()


if __name__ == "__main__":
    main()
