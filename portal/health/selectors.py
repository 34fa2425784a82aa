"""Reads for the status pages, the API and the live updates."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, F, Max, Prefetch, Q
from django.utils import timezone

from portal.accounts.roles import is_status_staff
from portal.cache import database_version
from portal.errors import NotFound

from . import status as status_logic
from .models import (
    CLOSED_STATUSES,
    Check,
    Component,
    ComponentGroup,
    ComponentStatusChange,
    HourlyRollup,
    Incident,
    IncidentFollower,
    IncidentUpdate,
    Sample,
    StatusFollower,
    Webhook,
    WebhookDelivery,
)
from .uptime import DayBar, day_bars, uptime_share

UPTIME_DAYS = 90
RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "90d": timedelta(days=90)}


def component_list() -> list[Component]:
    # Ungrouped components first on every database (PostgreSQL sorts NULLs last by default, SQLite first).
    return list(Component.objects.select_related("group").order_by(
        F("group__position").asc(nulls_first=True), F("group__name").asc(nulls_first=True), "position", "name"))


def component_groups(components: list[Component] | None = None) -> list[tuple[ComponentGroup | None, list[Component]]]:
    """Components grouped in page order; ungrouped components come first under None."""
    components = component_list() if components is None else components
    groups: dict[int | None, tuple[ComponentGroup | None, list[Component]]] = {}
    for component in components:
        groups.setdefault(component.group_id, (component.group, []))[1].append(component)
    return sorted(groups.values(), key=lambda g: (g[0] is not None, g[0].position if g[0] else 0))


def _incidents():
    updates = IncidentUpdate.objects.order_by("-display_at", "-pk")
    return Incident.objects.filter(draft=False).prefetch_related(
        Prefetch("updates", queryset=updates), Prefetch("components", queryset=Component.objects.select_related("group"))
    )


def published_incident(pk: int) -> Incident | None:
    """The incident `pk` unless it is a draft, with its timeline and components read in three queries."""
    return _incidents().filter(pk=pk).first()


def unresolved_incidents() -> list[Incident]:
    return list(_incidents().filter(kind=Incident.Kind.INCIDENT).exclude(status__in=CLOSED_STATUSES))


def recent_incidents(limit: int = 50) -> list[Incident]:
    return list(_incidents().filter(kind=Incident.Kind.INCIDENT)[:limit])


def maintenances(*, limit: int = 50) -> list[Incident]:
    return list(_incidents().filter(kind=Incident.Kind.MAINTENANCE).order_by("-scheduled_for")[:limit])


def active_maintenances() -> list[Incident]:
    return list(
        _incidents().filter(kind=Incident.Kind.MAINTENANCE, status__in=["in_progress", "verifying"]).order_by("scheduled_for")
    )


def upcoming_maintenances() -> list[Incident]:
    return list(_incidents().filter(kind=Incident.Kind.MAINTENANCE, status="scheduled").order_by("scheduled_for"))


def draft_incidents() -> list[Incident]:
    return list(Incident.objects.filter(draft=True).prefetch_related("components", "updates"))


def incident_history(*, days: int = 14, now: datetime | None = None) -> list[tuple[datetime, list[Incident]]]:
    """Closed incidents and maintenances of the last `days` days, grouped by the day they started (newest first)."""
    now = now or timezone.now()
    closed = _incidents().filter(status__in=CLOSED_STATUSES, started_at__gte=now - timedelta(days=days))
    by_day: dict = {}
    for incident in closed.order_by("-started_at"):
        by_day.setdefault(incident.started_at.date(), []).append(incident)
    return sorted(by_day.items(), reverse=True)


@dataclass(frozen=True)
class Overall:
    indicator: str  # Statuspage's: the worst of the components and the open incidents' impacts (the API's)
    description: str
    any_maintenance: bool
    components_indicator: str = "none"  # the components' alone: what the page's banner and colour follow
    open_incidents: int = 0

    @property
    def headline(self) -> str:
        """The banner's words, true to the components listed under it: their worst status; with every component
        operational, an open incident is named as such rather than as an outage none of them shows."""
        if self.components_indicator != "none":
            return status_logic.DESCRIPTIONS[self.components_indicator]
        if self.open_incidents:
            count = "An incident is" if self.open_incidents == 1 else f"{self.open_incidents} incidents are"
            return f"All components operational · {count} open"
        return status_logic.page_description("none", any_maintenance=self.any_maintenance)

    @property
    def tone(self) -> str:
        if self.components_indicator == "none":
            if self.open_incidents:
                return "warn"
            return "maint" if self.any_maintenance else "ok"
        return {"minor": "warn", "major": "bad", "critical": "bad"}[self.components_indicator]


def overall(components: list[Component] | None = None, incidents: list[Incident] | None = None) -> Overall:
    components = component_list() if components is None else components
    incidents = unresolved_incidents() if incidents is None else incidents
    indicator = status_logic.page_indicator((c.status for c in components), (i.impact for i in incidents))
    any_maintenance = any(c.status == status_logic.MAINTENANCE for c in components)
    return Overall(indicator, status_logic.page_description(indicator, any_maintenance=any_maintenance), any_maintenance,
                   components_indicator=status_logic.page_indicator(c.status for c in components),
                   open_incidents=sum(1 for i in incidents if not i.is_maintenance))


def page_updated_at() -> datetime | None:
    latest = [
        Component.objects.aggregate(at=Max("updated_at"))["at"],
        Incident.objects.filter(draft=False).aggregate(at=Max("updated_at"))["at"],
    ]
    latest = [at for at in latest if at]
    return max(latest) if latest else None


@functools.cache
def _status_version_sql() -> str:
    q = connection.ops.quote_name
    components, groups = q(Component._meta.db_table), q(ComponentGroup._meta.db_table)
    incidents, updates = q(Incident._meta.db_table), q(IncidentUpdate._meta.db_table)
    log = q(ComponentStatusChange._meta.db_table)
    published = f"{q('draft')} = %s"
    return (
        f"SELECT (SELECT MAX({q('updated_at')}) FROM {components}), (SELECT COUNT(*) FROM {components}), "
        f"(SELECT MAX({q('id')}) FROM {log}), "
        f"(SELECT MAX({q('updated_at')}) FROM {groups}), "
        f"(SELECT MAX({q('updated_at')}) FROM {incidents} WHERE {published}), "
        f"(SELECT COUNT(*) FROM {incidents} WHERE {published}), "
        f"(SELECT COUNT(*) FROM {updates} WHERE {q('incident_id')} IN (SELECT {q('id')} FROM {incidents} "
        f"WHERE {published}))"
    )


def status_version() -> str:
    """Changes whenever something the live page shows changes (a status-log row too: today's uptime bar); the
    websocket pushes a fresh page when it does. Drafts are not shown, so the sampler opening one sends no page to
    anyone. One query (portal.cache), on SQLite through the process's kept-open reader connection."""
    raw = database_version(_status_version_sql(), [False, False, False], sqlite_reader=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def uptime_bars(
    components: list[Component], *, days: int = UPTIME_DAYS, tz_name: str = "UTC", now: datetime | None = None
) -> dict[int, list[DayBar]]:
    """90 daily bars per component, computed from the status log in one query."""
    now = now or timezone.now()
    tz = ZoneInfo(tz_name)
    since = now - timedelta(days=days + 1)
    changes: dict[int, list[tuple[datetime, str]]] = {c.pk: [] for c in components}
    ids = list(changes)
    # The last change before the window tells the status at its start.
    before = (
        ComponentStatusChange.objects.filter(component_id__in=ids, at__lt=since)
        .values("component_id")
        .annotate(last=Max("at"))
    )
    starts = Q()
    for row in before:
        starts |= Q(component_id=row["component_id"], at=row["last"])
    window = ComponentStatusChange.objects.filter(component_id__in=ids, at__gte=since)
    rows = (window | ComponentStatusChange.objects.filter(starts)) if before else window
    for change in rows.order_by("at", "pk").values("component_id", "at", "status"):
        changes[change["component_id"]].append((change["at"], change["status"]))
    return {pk: day_bars(log, days=days, tz=tz, now=now) for pk, log in changes.items()}


def uptime_percent(bars: list[DayBar]) -> str:
    share = uptime_share(bars)
    return "" if share is None else f"{share * 100:.2f}%"


def component_checks(component: Component) -> list[Check]:
    return list(component.checks.filter(enabled=True).order_by("position", "name"))


def metric_series(check: Check, *, range_key: str, now: datetime | None = None) -> dict:
    """Points for a chart: `{"t": [unix s], "v": [value or None], "min": [...], "max": [...]}`.

    24 h reads the raw samples; 7 d and 90 d read the hourly roll-ups plus the raw samples not yet rolled up.
    """
    now = now or timezone.now()
    since = now - RANGES[range_key]
    series = {"t": [], "v": [], "min": [], "max": []}
    if range_key == "24h":
        for at, value in Sample.objects.filter(check_ref=check, at__gte=since).values_list("at", "value"):
            series["t"].append(int(at.timestamp()))
            series["v"].append(value)
            series["min"].append(value)
            series["max"].append(value)
        return series
    last_hour = None
    for rollup in HourlyRollup.objects.filter(check_ref=check, hour__gte=since):
        series["t"].append(int(rollup.hour.timestamp()))
        series["v"].append(rollup.mean)
        series["min"].append(rollup.minimum)
        series["max"].append(rollup.maximum)
        last_hour = rollup.hour
    recent = Sample.objects.filter(check_ref=check, at__gte=max(since, last_hour + timedelta(hours=1)) if last_hour else since)
    buckets: dict[int, list] = {}
    for at, value in recent.values_list("at", "value"):
        buckets.setdefault(int(at.timestamp()) // 3600 * 3600, []).append(value)
    for hour, values in sorted(buckets.items()):
        numbers = [v for v in values if v is not None]
        series["t"].append(hour)
        series["v"].append(sum(numbers) / len(numbers) if numbers else None)
        series["min"].append(min(numbers) if numbers else None)
        series["max"].append(max(numbers) if numbers else None)
    return series


def failed_webhook_deliveries() -> int:
    """Deliveries that gave up or are retrying after a failure (shown to staff, detailed in the admin)."""
    return WebhookDelivery.objects.filter(Q(state="failed") | Q(state="pending", attempts__gt=0)).count()


def webhook_list() -> list[Webhook]:
    """Every webhook with its delivery counts (`delivered`, `failing`: failed or retrying, `queued`)."""
    return list(Webhook.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__state="delivered")),
        failing=Count("deliveries", filter=Q(deliveries__state="failed")
                      | Q(deliveries__state="pending", deliveries__attempts__gt=0)),
        queued=Count("deliveries", filter=Q(deliveries__state="pending", deliveries__attempts=0)),
    ).order_by("-created_at", "-pk"))


def webhook_deliveries(*, webhook: Webhook | None = None, limit: int = 50) -> list[WebhookDelivery]:
    """The delivery log, newest first: every webhook's, or one's."""
    deliveries = WebhookDelivery.objects.select_related("webhook").defer("body")
    if webhook is not None:
        deliveries = deliveries.filter(webhook=webhook)
    return list(deliveries.order_by("-created_at", "-pk")[:limit])


def incident_visible(*, code: str, user) -> Incident:
    """The incident `code` as `user` may see it: drafts only for status staff. Raises NotFound otherwise."""
    incident = Incident.objects.filter(code=code).first()
    if incident is None or (incident.draft and not is_status_staff(user)):
        raise NotFound("There is no such incident.")
    return incident


def follows_all(user) -> bool:
    return bool(user.is_authenticated and StatusFollower.objects.filter(user=user).exists())


def follows(user, incident: Incident) -> bool:
    return bool(user.is_authenticated and IncidentFollower.objects.filter(incident=incident, user=user).exists())
