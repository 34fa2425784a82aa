"""Who may do what: the one definition of admin, moderator and status staff, used by services, selectors,
templates and consumers alike.

- admin: a superuser, Django staff, or a member of the "admins" group. Admins open, cancel and execute proposals,
  moderate, and run the status page.
- moderator: an admin or a member of the "moderators" group. Moderators hide comments, lock threads, sanction.
- status staff: the admins.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

ADMINS_GROUP = "admins"
MODERATORS_GROUP = "moderators"


def _groups(user) -> frozenset[str]:
    """The user's group names, read once per user object (a request reads its user once)."""
    cached = getattr(user, "_portal_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True)) if user.pk else frozenset()
        user._portal_groups = cached
    return cached


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", True))


def is_admin(user) -> bool:
    if not _signed_in(user):
        return False
    return bool(user.is_superuser or user.is_staff or ADMINS_GROUP in _groups(user))


def is_moderator(user) -> bool:
    return is_admin(user) or (_signed_in(user) and MODERATORS_GROUP in _groups(user))


def is_status_staff(user) -> bool:
    return is_admin(user)


def admins() -> QuerySet:
    """Active users `is_admin` admits."""
    return (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(is_staff=True) | Q(groups__name=ADMINS_GROUP), is_active=True)
        .distinct()
    )


def moderators() -> QuerySet:
    """Active users `is_moderator` admits."""
    return (
        get_user_model()
        .objects.filter(
            Q(is_superuser=True) | Q(is_staff=True) | Q(groups__name__in=(ADMINS_GROUP, MODERATORS_GROUP)),
            is_active=True,
        )
        .distinct()
    )


def status_staff() -> QuerySet:
    """Active users `is_status_staff` admits, e.g. to tell them of a draft incident."""
    return admins()
