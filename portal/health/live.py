"""The fragments a status page swaps in live (out-of-band, by element id), the context they need, and the
broadcasts that carry them to `/ws/status/` through portal.live (after commit, robust)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from portal.live import broadcast

from . import selectors
from .models import Component, ComponentStatusChange, Incident

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


# The finished days' bars do not change, so each component's are rendered once a day (or when its status log gets a
# row or an incident changes: both are in the key) and kept; only today's bar is computed and rendered per request.
PAST_DAYS_CACHE_SECONDS = 26 * 3600


def attach_uptime(components, *, tz_name: str = "UTC") -> None:
    """Give each component `.past_bars_html` (its 89 finished days, rendered; cached per day), `.bars` (today's
    bar with its incidents) and `.uptime` ("99.95%" over the 90 days)."""
    now = timezone.now()
    today = now.astimezone(ZoneInfo(tz_name)).date()
    version = _incidents_version()
    logged = dict(
        ComponentStatusChange.objects.filter(component__in=components).values("component_id").annotate(last=Max("pk"))
        .values_list("component_id", "last")
    )
    keys = {
        c.pk: f"health:uptime-past:{c.pk}:{tz_name}:{today}:{logged.get(c.pk)}:{version}" for c in components
    }
    past = cache.get_many(list(keys.values()))
    missing = [component for component in components if keys[component.pk] not in past]
    incidents = incidents_by_component()
    if missing:
        full = selectors.uptime_bars(missing, tz_name=tz_name, now=now)
        fresh = {}
        for component in missing:
            finished = full[component.pk][:-1]
            fresh[keys[component.pk]] = {
                "html": render_to_string(
                    "health/_fragments.html#uptime_days", {"bars": _with_incidents(finished, incidents.get(component.pk, []))}
                ),
                "observed": sum(bar.observed_seconds for bar in finished),
                "up": sum(bar.uptime * bar.observed_seconds for bar in finished if bar.uptime is not None),
            }
        cache.set_many(fresh, PAST_DAYS_CACHE_SECONDS)
        past.update(fresh)
    todays = selectors.uptime_bars(components, days=1, tz_name=tz_name, now=now)
    for component in components:
        finished, bar = past[keys[component.pk]], todays[component.pk][0]
        component.past_bars_html = mark_safe(finished["html"])  # noqa: S308 — our template's output
        component.bars = _with_incidents([bar], incidents.get(component.pk, []))
        observed = finished["observed"] + bar.observed_seconds
        up = finished["up"] + (bar.uptime * bar.observed_seconds if bar.uptime is not None else 0)
        share = up / observed if observed > 0 else None
        component.uptime = "" if share is None else f"{share * 100:.2f}%"


def _with_incidents(bars, incidents: list[Incident]) -> list[tuple]:
    return [(bar, [i for i in incidents if _overlaps(i, bar.day)]) for bar in bars]


def _incidents_version() -> str:
    found = Incident.objects.filter(draft=False).aggregate(at=Max("updated_at"), n=Count("pk"))
    return hashlib.sha256(f"{found['at']}|{found['n']}".encode()).hexdigest()[:12]


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
