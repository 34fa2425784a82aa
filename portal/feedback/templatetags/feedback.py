from django import template

from portal.feedback.models import Post, Status

register = template.Library()

STATUS_BADGES = {
    "open": "", "under_review": "badge--info", "planned": "badge--accent", "in_progress": "badge--warn",
    "done": "badge--ok", "declined": "badge--bad", "duplicate": "badge--maint",
}


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "")


@register.filter
def duration(seconds) -> str:
    """12 s, 5 min, 3 h 20 min, 2 d 4 h: a response time as staff read it."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.simple_tag
def feedback_top(limit: int = 5):
    """The most-voted open posts for the home page card."""
    return list(
        Post.objects.exclude(status__in=[Status.DUPLICATE, Status.DONE, Status.DECLINED])
        .order_by("-vote_count", "-created")[:limit]
    )
