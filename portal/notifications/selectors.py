"""Reads for the notification centre and the bell."""

from django.db.models import QuerySet

from .models import MutedVerb, Notification, Verb


def notification_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    qs = Notification.objects.filter(recipient=user).select_related("actor")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def notification_preferences(*, user) -> list[tuple[str, str, bool]]:
    """(verb, label, enabled) for every verb, in a stable order."""
    muted = set(MutedVerb.objects.filter(user=user).values_list("verb", flat=True))
    return [(value, label, value not in muted) for value, label in Verb.choices]
