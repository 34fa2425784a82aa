"""Digest benchmark: the daily digest for N subscribers with M events each (default 10,000 × 20; goal under 60 s,
with a constant number of queries per batch of people).

Run: `.venv/bin/python bench/digest.py [SUBSCRIBERS] [EVENTS]`. It builds a throw-away SQLite database (or uses
BENCH_DATABASE_URL, an empty database of its own), creates the subscribers with verified addresses
and their waiting entries, then times `digests_build` — grouping, rendering the plain-text and HTML parts, queuing
every mail and its durable sending effect, marking the entries — against the same run's cost of building one
digest, and counts the queries of each batch. Sending is not timed (the SMTP server's speed is not ours).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Never the site's database: a throw-away SQLite file, or BENCH_DATABASE_URL (an empty database of its own).
os.environ["DATABASE_URL"] = (os.environ.get("BENCH_DATABASE_URL")
                              or f"sqlite:///{tempfile.mkdtemp(prefix='bench-digest-')}/bench.sqlite3")

import _django  # noqa: E402, F401 — sets Django up

from allauth.account.models import EmailAddress  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from portal.accounts.models import User  # noqa: E402
from portal.conf import portal_settings  # noqa: E402
from portal.notifications.digests import digests_build  # noqa: E402
from portal.notifications.models import Cadence, DigestEntry, DigestRun, Kind, Mail  # noqa: E402

KINDS = [Kind.REPLIES, Kind.FEEDBACK, Kind.PROPOSAL_RESULT, Kind.PROPOSAL_NEW]


def populate(subscribers: int, events: int) -> None:
    users = User.objects.bulk_create(
        [User(username=f"0x{i:040x}", password="!", display_name=f"member {i}") for i in range(subscribers)],
        batch_size=2000,
    )
    if users[0].pk is None:  # a backend without RETURNING
        users = list(User.objects.order_by("pk"))
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=f"member{i}@example.org", verified=True, primary=True) for i, u in enumerate(users)],
        batch_size=2000,
    )
    created = timezone.now() - timezone.timedelta(hours=1)
    DigestEntry.objects.bulk_create(
        [DigestEntry(user=u, cadence=Cadence.DAILY, kind=KINDS[j % len(KINDS)], created=created,
                     text=f"Event {j} for member {i}: someone replied to your comment in “Raise the WETH cap”",
                     url=f"/discussion/{j}/#c{i}")
         for i, u in enumerate(users) for j in range(events)],
        batch_size=5000,
    )


def reset() -> None:
    DigestEntry.objects.update(period="")
    DigestRun.objects.all().delete()
    Mail.objects.all().delete()


def main() -> None:
    subscribers = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    populate(subscribers, events)
    print(f"populated {subscribers:,} subscribers × {events} events in {time.perf_counter() - started:.1f} s "
          f"({connection.vendor})")

    # Baseline: one digest, the same work for one person (best of 5).
    one = User.objects.order_by("pk").first()
    singles = []
    for _ in range(5):
        reset()
        DigestEntry.objects.exclude(user=one).update(period="bench:elsewhere")
        started = time.perf_counter()
        assert digests_build(cadence=Cadence.DAILY) == 1
        singles.append(time.perf_counter() - started)
    single = min(singles)
    reset()

    size = portal_settings().digest_batch_size
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        built = digests_build(cadence=Cadence.DAILY)
        elapsed = time.perf_counter() - started
    batches = -(-subscribers // size)
    assert built == subscribers, built
    assert not DigestEntry.objects.filter(period="").exists()
    print(f"one digest ({events} events): {single * 1000:.1f} ms")
    print(f"{subscribers:,} digests: {elapsed:.1f} s = {elapsed / subscribers * 1000:.2f} ms each "
          f"({elapsed / (single * subscribers):.2f}× {subscribers:,} single builds)")
    print(f"queries: {len(queries)} in {batches} batches of {size} people "
          f"({(len(queries) - 3) / batches:.1f} per batch + 3 per run)")
    print(f"goal: under 60 s — {'met' if elapsed < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
