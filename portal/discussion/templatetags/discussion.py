from django import template

from ..models import Thread
from ..rendering import thread_preview_render

register = template.Library()


@register.simple_tag
def recent_threads(limit: int = 5):
    """The latest active public threads, for the home page card."""
    return list(
        Thread.objects.filter(hidden=False, category__listed=True).select_related("category").order_by("-last_activity")[:limit]
    )


@register.simple_tag
def thread_preview(thread, limit: int = 3):
    """A proposal page's discussion card: `{% load discussion %}{% thread_preview proposal.thread %}` (the
    proposal page itself keeps it with its other public parts, governance.views)."""
    return thread_preview_render(thread=thread, limit=limit).html()
