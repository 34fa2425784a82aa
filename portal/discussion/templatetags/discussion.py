from django import template

from ..models import Thread

register = template.Library()


@register.simple_tag
def recent_threads(limit: int = 5):
    """The latest active public threads, for the home page card."""
    return list(
        Thread.objects.filter(hidden=False, category__listed=True).select_related("category").order_by("-last_activity")[:limit]
    )
