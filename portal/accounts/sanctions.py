"""Who may post and who may sign in: the sentences people read when a moderator has silenced or suspended them.
Moderators impose and lift sanctions in portal.discussion.moderation; sign-in (siwe), the session middleware and
every service that writes on a member's behalf ask here."""

from __future__ import annotations

import datetime

from allauth.socialaccount.models import SocialAccount
from django.db.models import QuerySet
from django.utils import timezone

from .models import Sanction, User


def format_until(when) -> str:
    """3 Dec 2026 14:00 UTC."""
    return when.astimezone(datetime.timezone.utc).strftime("%-d %b %Y %H:%M UTC")


def _active(*, user, kind: str) -> Sanction | None:
    if user is None or not getattr(user, "pk", None):
        return None
    now = timezone.now()
    return (
        Sanction.objects.filter(user=user, kind=kind, starts__lte=now, ends__gt=now, lifted__isnull=True)
        .order_by("-ends")
        .first()
    )


def sanction_list_active() -> QuerySet[Sanction]:
    """Sanctions not yet over nor lifted, with their members, for the moderators' queue."""
    return Sanction.objects.filter(ends__gt=timezone.now(), lifted__isnull=True).select_related("user")


def active_silence(*, user) -> Sanction | None:
    return _active(user=user, kind=Sanction.Kind.SILENCE)


def active_suspension(*, user) -> Sanction | None:
    return _active(user=user, kind=Sanction.Kind.SUSPEND)


def user_posting_refusal(*, user) -> str | None:
    """The sentence shown to a silenced or suspended user who tries to post, or None when they may post. One query:
    both kinds are read at once and a suspension, the stronger sanction, is the one named."""
    if user is None or not getattr(user, "pk", None):
        return None
    now = timezone.now()
    active = Sanction.objects.filter(user=user, starts__lte=now, ends__gt=now, lifted__isnull=True).order_by("-ends")
    by_kind: dict[str, Sanction] = {}
    for sanction in active:
        by_kind.setdefault(sanction.kind, sanction)
    if suspension := by_kind.get(Sanction.Kind.SUSPEND):
        return f"Your account is suspended until {format_until(suspension.ends)}: {suspension.reason}"
    if silence := by_kind.get(Sanction.Kind.SILENCE):
        return f"You are silenced until {format_until(silence.ends)}: {silence.reason}"
    return None


def wallet_sign_in_refusal(*, address: str) -> str | None:
    """The sentence to show when the account holding `address` is suspended, else None (sign-in may proceed)."""
    users = list(
        User.objects.filter(pk__in=SocialAccount.objects.filter(provider="siwe", uid__iexact=address).values("user"))
    ) or list(User.objects.filter(username__iexact=address))
    for user in users:
        suspension = active_suspension(user=user)
        if suspension:
            return f"This wallet is suspended until {format_until(suspension.ends)}: {suspension.reason}"
    return None
