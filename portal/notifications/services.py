"""Writes for notifications. Services call `notify_later` inside their write's transaction: the notification is a
durable effect (portal.effects), created exactly once per recipient even when a worker dies mid-task. `notify`
writes at once (effect handlers call it). The bell's live updates leave after commit through live.py."""

import uuid
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from portal.effects.services import durable, effect_enqueue

from . import live
from .models import MutedVerb, Notification, Verb


def notify_later(*, recipients: Iterable, verb: str, text: str, url: str, actor=None, key: str | None = None) -> bool:
    """Queue `notify(...)` in the caller's transaction: it happens if and only if that transaction commits, once per
    recipient and `key` (a fresh key when None), retried if it fails. Returns False when there is nobody to tell or
    `key` was queued before. Raises ValueError for an unknown verb."""
    _check_verb(verb)
    recipient_ids = sorted({user.pk for user in recipients if user is not None and getattr(user, "pk", None)})
    if not recipient_ids:
        return False
    effect_key = f"notify:{key}" if key else None  # None: a fresh one, no clash possible (no savepoint needed)
    return effect_enqueue(notification_deliver, key=effect_key, recipient_ids=recipient_ids, verb=verb,
                          text=text[:300], url=url[:500], actor_id=getattr(actor, "pk", None),
                          delivery_key=effect_key or f"notify:{uuid.uuid4().hex}")


@durable(eager=True)
def notification_deliver(*, recipient_ids: list[int], verb: str, text: str, url: str, actor_id: int | None,
                         delivery_key: str) -> int:
    """The effect behind `notify_later`: users who muted `verb` since, or were deleted, are skipped."""
    users = get_user_model().objects
    actor = users.filter(pk=actor_id).first() if actor_id else None
    return notify(recipients=users.filter(pk__in=recipient_ids), verb=verb, text=text, url=url, actor=actor,
                  key=delivery_key)


def notify(*, recipients: Iterable, verb: str, text: str, url: str, actor=None, key: str = "") -> int:
    """Create one notification per recipient now and push it to their bell after commit.

    Skips the actor, anonymous/duplicate recipients, users who muted `verb` and, with a `key`, those who already
    have that key's notification. Returns how many were created. Raises ValueError for an unknown verb (a programming
    error, not user input).
    """
    _check_verb(verb)
    by_id = {}
    for user in recipients:
        if user is None or not getattr(user, "pk", None):
            continue
        if actor is not None and user.pk == actor.pk:
            continue
        by_id[user.pk] = user
    if not by_id:
        return 0
    skip = set(MutedVerb.objects.filter(verb=verb, user_id__in=by_id).values_list("user_id", flat=True))
    if key:
        skip |= set(Notification.objects.filter(key=key, recipient_id__in=by_id).values_list("recipient_id", flat=True))
    now = timezone.now()
    rows = [
        Notification(recipient_id=uid, actor=actor, verb=verb, text=text[:300], url=url[:500], created=now, key=key)
        for uid in by_id
        if uid not in skip
    ]
    for row in rows:
        row.full_clean(exclude=["recipient", "actor"])
    created = Notification.objects.bulk_create(rows)
    if not created:
        return 0
    ids = [row.pk for row in created if row.pk is not None]
    if len(ids) != len(created):  # a backend without RETURNING: find this batch again
        ids = list(
            Notification.objects.filter(recipient_id__in=[r.recipient_id for r in rows], verb=verb, created=now)
            .values_list("pk", flat=True)
        )
    live.notification_broadcast(notification_ids=ids, recipient_ids=[row.recipient_id for row in rows])
    return len(created)


def _check_verb(verb: str) -> None:
    if verb not in Verb.values:
        raise ValueError(f"Unknown notification verb {verb!r}; add it to portal.notifications.models.Verb.")


def notification_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when `notification_ids` is None). Returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    changed = qs.update(read_at=timezone.now())
    if changed:
        live.notification_count_broadcast(user_id=user.pk)
    return changed


@transaction.atomic
def notification_preferences_set(*, user, enabled_verbs: Iterable[str]) -> None:
    """Mute every verb not in `enabled_verbs`; unknown verbs are ignored."""
    enabled = set(enabled_verbs) & set(Verb.values)
    MutedVerb.objects.filter(user=user, verb__in=enabled).delete()
    for verb in set(Verb.values) - enabled:
        MutedVerb.objects.get_or_create(user=user, verb=verb)
