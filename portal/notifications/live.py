"""Live events for `/ws/notifications/`: the bell's unread count and the new notification as HTML fragments
(out-of-band swaps), sent to the recipient's own group through portal.live.broadcast — after commit, rendered then."""

from __future__ import annotations

from typing import TypedDict

from django.db.models import Count
from django.template.loader import render_to_string

from portal.live import broadcast

from .models import Notification


class NotificationEvent(TypedDict, total=False):
    type: str  # "notification.created" → NotificationConsumer.notification_created
    html: str  # the bell's count and the toast: every page has their targets
    item: str  # the new row for #notification-list, sent only to sockets opened on the notifications page


def user_group(user_id: int) -> str:
    """The channel-layer group of one user's own notification socket."""
    return f"notifications.user.{user_id}"


def notification_fragments(*, notification_ids: list[int]) -> dict[int, NotificationEvent]:
    """Each recipient's event: their unread count and the new notification. Three queries whatever the number of
    recipients, then one render per recipient."""
    notes = list(Notification.objects.filter(pk__in=notification_ids))
    user_ids = {note.recipient_id for note in notes}
    unread = dict(
        Notification.objects.filter(recipient_id__in=user_ids, read_at__isnull=True)
        .values_list("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    return {
        note.recipient_id: NotificationEvent(
            type="notification.created",
            html=render_to_string("notifications/_live.html", {"unread": unread.get(note.recipient_id, 0), "note": note}),
            item=render_to_string("notifications/_live_item.html", {"note": note}),
        )
        for note in notes
    }


def notification_broadcast(*, notification_ids: list[int], recipient_ids: list[int]) -> None:
    """After commit, push each new notification to its recipient's bell. The first send renders every recipient's
    fragment at once, so a fan-out costs the same queries for one recipient or many."""
    rendered: list[dict[int, NotificationEvent]] = []

    def event_for(recipient_id: int):
        def build() -> NotificationEvent | None:
            if not rendered:
                rendered.append(notification_fragments(notification_ids=notification_ids))
            return rendered[0].get(recipient_id)

        return build

    for recipient_id in dict.fromkeys(recipient_ids):
        broadcast(user_group(recipient_id), event_for(recipient_id))


def unread_fragment(*, user_id: int) -> str:
    """The bell's unread count alone, e.g. for a socket that just (re)connected."""
    unread = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
    return render_to_string("notifications/_live.html", {"unread": unread, "note": None})


def notification_count_broadcast(*, user_id: int) -> None:
    """After commit, the user's unread count (after they read something)."""
    broadcast(user_group(user_id), lambda: NotificationEvent(type="notification.created",
                                                             html=unread_fragment(user_id=user_id)))
