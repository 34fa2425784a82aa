"""Writes for notifications. `notify` is the one entry point other apps call; the bell's live updates leave after
commit through live.py."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from . import live
from .models import MutedVerb, Notification, Verb


def notify(*, recipients: Iterable, verb: str, text: str, url: str, actor=None) -> int:
    """Create one notification per recipient and push it to their bell after commit.

    Skips the actor, anonymous/duplicate recipients and users who muted `verb`. Returns how many were created.
    Raises ValueError for an unknown verb (a programming error, not user input).
    """
    if verb not in Verb.values:
        raise ValueError(f"Unknown notification verb {verb!r}; add it to portal.notifications.models.Verb.")
    by_id = {}
    for user in recipients:
        if user is None or not getattr(user, "pk", None):
            continue
        if actor is not None and user.pk == actor.pk:
            continue
        by_id[user.pk] = user
    if not by_id:
        return 0
    muted = set(MutedVerb.objects.filter(verb=verb, user_id__in=by_id).values_list("user_id", flat=True))
    now = timezone.now()
    rows = [
        Notification(recipient_id=uid, actor=actor, verb=verb, text=text[:300], url=url[:500], created=now)
        for uid in by_id
        if uid not in muted
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
