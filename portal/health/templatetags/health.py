from django import template

from portal.health import selectors

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    """`in_progress` → `In progress`, `major_outage` → `Major outage`."""
    return (value or "").replace("_", " ").capitalize()


@register.inclusion_tag("health/_card.html")
def status_card():
    """The home page's compact status card."""
    components = selectors.component_list()
    unresolved = selectors.unresolved_incidents()
    return {
        "overall": selectors.overall(components, unresolved),
        "components": components,
        "unresolved": unresolved,
        "maintenances": selectors.active_maintenances() + selectors.upcoming_maintenances()[:1],
    }
