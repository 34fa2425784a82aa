"""Daily and weekly digests: one mail per person with everything that happened since their last digest.

An entry is told once: the batch that builds a person's digest marks their entries with the period
(`daily:2026-12-02`) in the same transaction that queues the mail, and a period is built once (`DigestRun`). Work
goes in batches of people with a constant number of queries each, whatever the number of entries.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from portal.conf import portal_settings
from portal.effects.services import durable, effect_enqueue

from .mail import mail_compose, site_url
from .models import Cadence, DigestEntry, DigestRun, Kind
from .selectors import mail_addresses
from .outbox import mails_queue
from .tokens import unsubscribe_url

CADENCES = (Cadence.DAILY, Cadence.WEEKLY)


def digest_period(cadence: str, now: datetime) -> str:
    """The period a digest built at `now` covers up to: the day (daily) or the ISO week (weekly)."""
    if cadence == Cadence.DAILY:
        return f"daily:{now.date().isoformat()}"
    year, week, _ = now.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def _lists(entries: list[DigestEntry], origin: str) -> tuple[str, str]:
    """The entries grouped by kind, oldest first, as the plain-text and HTML lists (built here rather than in a
    template loop: ten thousand digests of twenty lines each are most of a digest run)."""
    grouped: dict[str, list] = defaultdict(list)
    for entry in entries:
        grouped[entry.kind].append(entry)
    text, html = [], []
    for kind, label in Kind.choices:
        if kind not in grouped:
            continue
        text.append(f"\n{label}\n" + "".join(f"- {e.text}\n  {origin}{e.url}\n" for e in grouped[kind]))
        html.append(format_html('<h2 style="font-size:16px;margin:20px 0 8px">{}</h2>', label)
                    + '<ul style="margin:0;padding-left:20px">'
                    + "".join(format_html('<li style="margin:0 0 6px"><a href="{}{}" style="color:#2451c7">{}</a></li>',
                                          origin, e.url, e.text) for e in grouped[kind])
                    + "</ul>")
    return "".join(text), mark_safe("".join(html))  # noqa: S308 — every piece went through format_html


def digest_compose(*, user_id: int, address: str, cadence: str, period: str, entries: list[DigestEntry]):
    """One person's digest: their entries grouped by kind, oldest first, with one-click unsubscribe."""
    lines, items = _lists(entries, site_url())
    return mail_compose(
        key=f"digest:{period}:{user_id}", to=address, template="notifications/mail/digest",
        context={"lines": lines, "items": items, "count": len(entries), "cadence": cadence},
        unsubscribe_url=unsubscribe_url(scope="digest", ident=user_id, kind=cadence),
    )


def digest_run_start(*, cadence: str, now: datetime) -> DigestRun | None:
    """Claim the period ending `now` for building; None when it was claimed already (built once, ever)."""
    try:
        with transaction.atomic():
            return DigestRun.objects.create(period=digest_period(cadence, now), started=now)
    except IntegrityError:
        return None


def digest_run_build(*, run: DigestRun, batch_size: int | None = None) -> int:
    """Build and queue the digests of a claimed period: every entry waiting from before the run started. Entries of
    people without a usable address are marked too (there is nowhere to tell them). Returns how many mails were
    queued. Per batch of people: 2 reads, the outbox's 3 queries, one update, one task insert."""
    cadence = run.period.split(":", 1)[0]
    size = batch_size or portal_settings().digest_batch_size
    waiting = DigestEntry.objects.filter(cadence=cadence, period="", created__lt=run.started)
    user_ids = list(waiting.values_list("user_id", flat=True).distinct().order_by("user_id"))
    queued = 0
    for start in range(0, len(user_ids), size):
        queued += _batch(user_ids[start:start + size], cadence=cadence, period=run.period, waiting=waiting)
    DigestRun.objects.filter(pk=run.pk).update(finished=timezone.now(), mails=queued)
    return queued


def digests_build(*, cadence: str, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Build the `cadence` digests of the period ending `now` at once (a period built already builds nothing)."""
    run = digest_run_start(cadence=cadence, now=now or timezone.now())
    return 0 if run is None else digest_run_build(run=run, batch_size=batch_size)


@transaction.atomic
def _batch(user_ids: list[int], *, cadence: str, period: str, waiting) -> int:
    addresses = mail_addresses(user_ids=user_ids)
    entries: dict[int, list[DigestEntry]] = defaultdict(list)
    for entry in waiting.filter(user_id__in=user_ids).order_by("user_id", "created", "pk"):
        entries[entry.user_id].append(entry)
    mails = [
        digest_compose(user_id=uid, address=addresses[uid], cadence=cadence, period=period, entries=items)
        for uid, items in entries.items() if uid in addresses
    ]
    queued = mails_queue(mails)
    waiting.filter(user_id__in=user_ids).update(period=period)
    return len(queued)


@durable(atomic=False, lease_seconds=1800)
def digest_run_deliver(*, run_id: int) -> int:
    """Build a claimed period's digests in the background (the sampler only claims and enqueues). Each batch is
    its own transaction that marks its entries, so a rerun after a dead worker goes on where it stopped."""
    run = DigestRun.objects.filter(pk=run_id, finished__isnull=True).first()
    return 0 if run is None else digest_run_build(run=run)


def digests_due(*, now: datetime | None = None) -> int:
    """The sampler's tick: after DIGEST_HOUR (UTC) claim the day's digests, and on Mondays the week's, and queue
    their building as a durable effect in the same transaction. A period claimed already costs one query."""
    now = now or timezone.now()
    if now.hour < portal_settings().digest_hour:
        return 0
    due = [Cadence.DAILY] + ([Cadence.WEEKLY] if now.weekday() == 0 else [])
    built = set(DigestRun.objects.filter(period__in=[digest_period(c, now) for c in due])
                .values_list("period", flat=True))
    started = 0
    for cadence in due:
        if digest_period(cadence, now) in built:
            continue
        with transaction.atomic():
            run = digest_run_start(cadence=cadence, now=now)
            if run is not None:
                effect_enqueue(digest_run_deliver, key=f"digest:{run.period}", run_id=run.pk)
                started += 1
    return started


def digest_entries_prune(*, now: datetime | None = None, days: int = 60) -> int:
    """Entries told long ago are not needed any more."""
    now = now or timezone.now()
    deleted, _ = DigestEntry.objects.exclude(period="").filter(created__lt=now - timedelta(days=days)).delete()
    return deleted
