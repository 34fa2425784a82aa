"""Writes for notifications. `notify` is the one entry point other apps call."""

import asyncio
import threading
from collections.abc import Iterable
from typing import TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from .models import MutedVerb, Notification, Verb


class NotificationEvent(TypedDict):
    type: str  # "notification.created" → NotificationConsumer.notification_created
    html: str


def _group_send(group: str, event: NotificationEvent) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(layer.group_send)(group, event)
        return
    # Called synchronously from a thread that runs an event loop: async_to_sync refuses there, so send from a helper.
    sender = threading.Thread(target=async_to_sync(layer.group_send), args=(group, event))
    sender.start()
    sender.join(timeout=10)


def user_group(user_id: int) -> str:
    """The channel-layer group of one user's own notification socket."""
    return f"notifications.user.{user_id}"


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
    # robust: the rows are committed; a channel layer that is down must not turn the caller's write into an error.
    transaction.on_commit(lambda: notification_broadcast(notification_ids=ids), robust=True)
    return len(created)


def notification_broadcast(*, notification_ids: list[int]) -> None:
    """Send each recipient their unread count and the new notification (HTML fragments, out-of-band swaps).

    Three queries whatever the number of recipients; then one render and one group send per recipient."""
    notes = list(Notification.objects.filter(pk__in=notification_ids))
    user_ids = {note.recipient_id for note in notes}
    unread = dict(
        Notification.objects.filter(recipient_id__in=user_ids, read_at__isnull=True)
        .values_list("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    for note in notes:
        html = render_to_string("notifications/_live.html", {"unread": unread.get(note.recipient_id, 0), "note": note})
        _group_send(user_group(note.recipient_id), NotificationEvent(type="notification.created", html=html))


def notification_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when `notification_ids` is None). Returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    changed = qs.update(read_at=timezone.now())
    if changed:
        transaction.on_commit(lambda: notification_count_broadcast(user_id=user.pk), robust=True)
    return changed


def notification_count_broadcast(*, user_id: int) -> None:
    unread = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
    html = render_to_string("notifications/_live.html", {"unread": unread, "note": None})
    _group_send(user_group(user_id), NotificationEvent(type="notification.created", html=html))


@transaction.atomic
def notification_preferences_set(*, user, enabled_verbs: Iterable[str]) -> None:
    """Mute every verb not in `enabled_verbs`; unknown verbs are ignored."""
    enabled = set(enabled_verbs) & set(Verb.values)
    MutedVerb.objects.filter(user=user, verb__in=enabled).delete()
    for verb in set(Verb.values) - enabled:
        MutedVerb.objects.get_or_create(user=user, verb=verb)
