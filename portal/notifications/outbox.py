"""The outbox's durable side: mails are saved and their sending queued as portal.effects effects inside the
caller's transaction, one effect per batch of mails, so a rolled-back write mails nobody and a committed one is
never lost.

Sending talks to the outside (`atomic=False`): each mail is claimed, sent and marked on its own, so a worker killed
mid-batch leaves the sent ones sent and the rest pending, and the effect's retry (after the sweep finds the dead
worker) sends only what is left, the mail it held with the same Message-ID. A temporary failure (4xx, no
connection) fails the attempt and the effect retries with backoff; a 5xx for the recipient is final for that mail
and suppresses the address.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from portal.conf import portal_settings
from portal.effects.services import durable, effect_enqueue

from .mail import mails_send
from .models import Mail


class MailNotSentYet(Exception):
    """Some mails of the batch met a temporary failure; the effect tries them again after its backoff."""


def _batch_failed(*, effect, error, final: bool) -> None:
    if final:
        Mail.objects.filter(pk__in=effect.kwargs.get("mail_ids", []), state=Mail.State.PENDING).update(
            state=Mail.State.FAILED, last_error=str(error)[:300])


@durable(atomic=False, max_attempts=6, first_retry_seconds=30, lease_seconds=600, on_error=_batch_failed)
def mails_deliver(*, mail_ids: list[int]) -> dict:
    """Send the batch's mails that are still pending. A mail a dead attempt held (`sending`) is pending again: only
    one attempt of an effect runs at a time, so whoever held it is gone."""
    Mail.objects.filter(pk__in=mail_ids, state=Mail.State.SENDING).update(state=Mail.State.PENDING)
    report = mails_send(mail_ids=mail_ids)
    if report.retried:
        raise MailNotSentYet(f"{report.retried} mail(s) met a temporary failure: {report.errors[-1]}")
    return {"sent": report.sent, "failed": report.failed, "suppressed": report.suppressed, "skipped": report.skipped}


def mails_queue(mails: Iterable[Mail]) -> list[int]:
    """Save the mails whose key is new and queue their sending, in the caller's transaction (one of its own when
    there is none). Returns the ids queued; a key already in the outbox (the same event again) queues nothing.
    Three queries for any number of mails, plus three per batch of MAIL_BATCH_SIZE (the effect and its task)."""
    mails = list({m.key: m for m in mails}.values())
    if not mails:
        return []
    with transaction.atomic():
        existing = set(Mail.objects.filter(key__in=[m.key for m in mails]).values_list("key", flat=True))
        new = [m for m in mails if m.key not in existing]
        if not new:
            return []
        Mail.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
        ids = list(Mail.objects.filter(key__in=[m.key for m in new]).order_by("pk").values_list("pk", flat=True))
        size = portal_settings().mail_batch_size
        for start in range(0, len(ids), size):
            batch = ids[start:start + size]
            effect_enqueue(mails_deliver, key=f"mails:{batch[0]}-{batch[-1]}", mail_ids=batch)
    return ids
