"""Reads for the notification centre, the bell, and each person's channels per kind."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db.models import QuerySet

from .models import DEFAULTS, Cadence, Kind, Notification, Preference, Suppression


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


@dataclass(frozen=True)
class Channels:
    kind: str
    label: str
    in_app: bool
    email: str


def preferences_of(*, user_ids, kind: str) -> dict[int, tuple[bool, str]]:
    """(in-app, e-mail cadence) of `kind` for each user, defaults filled in. One query."""
    chosen = dict(
        (uid, (in_app, email))
        for uid, in_app, email in Preference.objects.filter(user_id__in=list(user_ids), kind=kind)
        .values_list("user_id", "in_app", "email")
    )
    return {uid: chosen.get(uid, DEFAULTS[kind]) for uid in user_ids}


def notification_preferences(*, user) -> list[Channels]:
    """Every kind with the user's channels, in a stable order. One query."""
    chosen = {p.kind: p for p in Preference.objects.filter(user=user)}
    rows = []
    for kind, label in Kind.choices:
        in_app, email = (chosen[kind].in_app, chosen[kind].email) if kind in chosen else DEFAULTS[kind]
        rows.append(Channels(kind=kind, label=label, in_app=in_app, email=email))
    return rows


def mail_addresses(*, user_ids) -> dict[int, str]:
    """Each user's primary verified address that has not bounced for good. One query."""
    bounced = Suppression.objects.values("email")
    rows = (
        EmailAddress.objects.filter(user_id__in=list(user_ids), primary=True, verified=True)
        .exclude(email__in=bounced)
        .values_list("user_id", "email")
    )
    return dict(rows)


def email_cadences() -> list[tuple[str, str]]:
    return list(Cadence.choices)
