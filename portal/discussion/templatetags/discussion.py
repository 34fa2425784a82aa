from django import template

from ..models import Thread
from ..selectors import comment_list_visible

register = template.Library()


@register.simple_tag
def recent_threads(limit: int = 5):
    """The latest active public threads, for the home page card."""
    return list(
        Thread.objects.filter(hidden=False, category__listed=True).select_related("category").order_by("-last_activity")[:limit]
    )


@register.inclusion_tag("discussion/_thread_embed.html")
def thread_preview(thread, limit: int = 3):
    """A proposal page's discussion card: `{% load discussion %}{% thread_preview proposal.thread %}`."""
    if thread is None:
        return {"thread": None}
    visible = comment_list_visible(thread=thread)
    latest = list(visible.select_related("author").order_by("-created")[:limit])[::-1]
    return {"thread": thread, "latest": latest, "count": visible.count()}
