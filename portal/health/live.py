"""The fragments a status page swaps in live (out-of-band, by element id), the context they need, and the
broadcasts that carry them to `/ws/status/` through portal.live (after commit, robust)."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from django.template.loader import render_to_string
from django.utils import timezone

from portal.live import broadcast

from . import selectors
from .models import Component, Incident

STATUS_GROUP = "status"


class StatusUpdate(TypedDict):
    """The one event of STATUS_GROUP: fragments to swap, and the status version they bring a page to."""

    type: str  # "status.update"
    html: str
    version: str


def incidents_by_component(*, days: int = selectors.UPTIME_DAYS) -> dict[int, list[Incident]]:
    since = timezone.now() - timedelta(days=days + 1)
    found: dict[int, list[Incident]] = {}
    for incident in Incident.objects.filter(draft=False, started_at__gte=since).prefetch_related("components"):
        for component in incident.components.all():
            found.setdefault(component.pk, []).append(incident)
    return found


def attach_uptime(components, *, tz_name: str = "UTC") -> None:
    """Give each component `.bars` (90 days), `.uptime` ("99.95%") and, per bar, the incidents of that day."""
    bars = selectors.uptime_bars(components, tz_name=tz_name)
    incidents = incidents_by_component()
    for component in components:
        component.bars = [
            (bar, [i for i in incidents.get(component.pk, []) if _overlaps(i, bar.day)]) for bar in bars[component.pk]
        ]
        component.uptime = selectors.uptime_percent(bars[component.pk])


def _overlaps(incident: Incident, day) -> bool:
    start = incident.started_at.date()
    end = (incident.resolved_at or timezone.now()).date()
    return start <= day <= end


def page_context() -> dict:
    components = selectors.component_list()
    attach_uptime(components)
    unresolved = selectors.unresolved_incidents()
    return {
        "overall": selectors.overall(components, unresolved),
        "groups": selectors.component_groups(components),
        "components": components,
        "unresolved": unresolved,
        "active_maintenances": selectors.active_maintenances(),
        "upcoming_maintenances": selectors.upcoming_maintenances(),
        "updated_at": timezone.now(),
        "status_version": selectors.status_version(),
    }


def live_html(*, incident: Incident | None = None) -> str:
    """Everything a status page may show: banner, active incidents, component list and badges, and the timeline of
    `incident`. Sent to a socket that may have missed changes; targets missing on a page are simply not swapped."""
    context = {**page_context(), "oob": True, "with_active": True, "incident": incident}
    if incident is not None:
        context["updates"] = list(incident.updates.order_by("-display_at", "-pk"))
    return render_to_string("health/_live.html", context)


def _banner_context(unresolved: list[Incident] | None = None) -> dict:
    overall = selectors.overall(selectors.component_list(), unresolved)
    return {"overall": overall, "updated_at": timezone.now(), "oob": True}


def component_live_html(*, component: Component) -> str:
    """What one component's status change alters: the banner, that component's row (today's bar) and its badge.
    The whole list with every uptime bar is ~20 KB a component; this is one component's share."""
    attach_uptime([component])
    return render_to_string("health/_live.html", {**_banner_context(), "rows": [component], "components": [component]})


def incident_live_html(*, incident: Incident) -> str:
    """What an incident's change alters: the banner, the active incidents and maintenance, and its timeline."""
    unresolved = selectors.unresolved_incidents()
    context = {
        **_banner_context(unresolved),
        "with_active": True,
        "unresolved": unresolved,
        "active_maintenances": selectors.active_maintenances(),
        "upcoming_maintenances": selectors.upcoming_maintenances(),
        "incident": incident,
        "updates": list(incident.updates.all()),  # newest first: the model's order, prefetched by the broadcast
    }
    return render_to_string("health/_live.html", context)


def page_html(*, incident_code: str = "") -> str:
    """`live_html` for a page that names the incident it shows by code (or none): what a socket that may have
    missed changes is sent."""
    incident = Incident.objects.filter(code=incident_code, draft=False).first() if incident_code else None
    return live_html(incident=incident)


def incident_broadcast(*, incident_id: int) -> None:
    """After commit, send open status pages what the incident's change alters; a draft sends nothing."""
    def event() -> StatusUpdate | None:
        incident = selectors.published_incident(incident_id)
        if incident is None:
            return None
        return {"type": "status.update", "html": incident_live_html(incident=incident),
                "version": selectors.status_version()}

    broadcast(STATUS_GROUP, event)


def component_broadcast(*, component_id: int) -> None:
    """After commit, send open status pages the component's new row, badge and the banner — never the whole list."""
    def event() -> StatusUpdate | None:
        component = Component.objects.select_related("group").filter(pk=component_id).first()
        if component is None:
            return None
        return {"type": "status.update", "html": component_live_html(component=component),
                "version": selectors.status_version()}

    broadcast(STATUS_GROUP, event)
