"""Who moderates: members of the Django groups "moderators" or "admins", staff and superusers."""

MODERATOR_GROUPS = ("moderators", "admins")


def is_moderator(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    cached = getattr(user, "_discussion_is_moderator", None)
    if cached is None:
        cached = user.groups.filter(name__in=MODERATOR_GROUPS).exists()
        user._discussion_is_moderator = cached
    return cached
