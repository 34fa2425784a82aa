"""Writes the health checks make: each sample and its check's settled status, each component's status and its log,
the private draft an outage opens, and the hourly roll-ups with their retention. The sampler only calls these."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .. import status as status_logic
from ..checks import measure
from ..models import (
    CLOSED_STATUSES,
    Check,
    Component,
    ComponentStatusChange,
    Direction,
    HourlyRollup,
    Impact,
    Incident,
    Sample,
    WebhookDelivery,
)
from .publishing import component_publish, draft_announce
from .timeline import MAX_BODY, update_add

log = logging.getLogger(__name__)
RAW_RETENTION = timedelta(days=7)
ROLLUP_RETENTION = timedelta(days=90)
DELIVERED_RETENTION = timedelta(days=30)
DRAFT_AT = (status_logic.PARTIAL, status_logic.MAJOR)
IMPACT_OF = {status_logic.DEGRADED: Impact.MINOR, status_logic.PARTIAL: Impact.MAJOR, status_logic.MAJOR: Impact.CRITICAL}


def thresholds_of(check: Check) -> status_logic.Thresholds:
    return status_logic.Thresholds(check.degraded_at, check.partial_at, check.major_at,
                                   lower_is_worse=check.direction == Direction.LOWER_IS_WORSE)


def check_sample(*, check: Check, now: datetime | None = None) -> Sample:
    """Run `check` once, store the sample and the check's settled status (hysteresis: `check.consecutive`)."""
    measurement = measure(check)
    now = now or timezone.now()
    observed = thresholds_of(check).status_of(measurement.value)
    state = status_logic.Hysteresis(check.status, check.pending_status, check.pending_count).observe(
        observed, required=check.consecutive, failed=measurement.failed
    )
    check.status, check.pending_status, check.pending_count = state.status, state.pending, state.count
    check.last_value, check.last_error, check.last_run_at = measurement.value, measurement.error[:2000], now
    with transaction.atomic():
        sample = Sample.objects.create(check_ref=check, at=now, value=measurement.value, status=observed,
                                       error=measurement.error[:300])
        check.save(update_fields=["status", "pending_status", "pending_count", "last_value", "last_error", "last_run_at"])
    return sample


def checks_run_due(*, now: datetime | None = None, force: bool = False) -> list[Sample]:
    """Run every enabled check whose interval has passed (all of them with `force`), then settle the components
    they belong to. Returns the samples taken."""
    now = now or timezone.now()
    samples = []
    touched: dict[int, Component] = {}
    for check in Check.objects.filter(enabled=True).select_related("component"):
        if not force and check.last_run_at and check.last_run_at + timedelta(seconds=check.interval_seconds) > now:
            continue
        samples.append(check_sample(check=check, now=timezone.now()))
        touched[check.component_id] = check.component
    # The status log records when a change was seen, not when the tick was due.
    components_refresh(components=list(touched.values()), now=timezone.now())
    return samples


def _in_maintenance(component: Component) -> bool:
    return component.incidents.filter(kind=Incident.Kind.MAINTENANCE, draft=False,
                                      status__in=["in_progress", "verifying"]).exists()


def _set_by_incidents(component: Component) -> list[str]:
    """What the open, published incidents affecting `component` say its status is (Incident.component_statuses)."""
    open_incidents = component.incidents.filter(kind=Incident.Kind.INCIDENT, draft=False).exclude(
        status__in=CLOSED_STATUSES)
    return [s for statuses in open_incidents.values_list("component_statuses", flat=True)
            if (s := (statuses or {}).get(component.code))]


def components_refresh(*, components: list[Component], now: datetime | None = None) -> list[Component]:
    """Recompute each component's status: the worst of its enabled checks and of what open incidents set for it
    (under maintenance while a window is in progress); on a change log it, open a draft incident when it turned
    into an outage, and publish it after commit. Returns the components that changed."""
    now = now or timezone.now()
    changed = []
    for component in components:
        component.refresh_from_db()
        checked = status_logic.worst(
            [c.status for c in component.checks.filter(enabled=True)] + _set_by_incidents(component))
        new = status_logic.MAINTENANCE if _in_maintenance(component) else checked
        if new == component.status:
            continue
        old = component.status
        with transaction.atomic():
            component.status, component.status_since = new, now
            component.save(update_fields=["status", "status_since", "updated_at"])
            ComponentStatusChange.objects.create(component=component, status=new, at=now)
            if new in DRAFT_AT and status_logic.SEVERITY[old] < status_logic.SEVERITY[new]:
                incident_draft_open(component=component, old=old, new=new, now=now)
            component_publish(component=component, old=old)
        changed.append(component)
    return changed


def _reading(check: Check) -> str:
    if check.last_error:
        return check.last_error.rstrip(".")
    if check.last_value is None:
        return "no value yet"
    return f"{check.last_value:g} {check.unit}".strip()


def incident_draft_open(*, component: Component, old: str, new: str, now: datetime) -> Incident | None:
    """A private draft for staff to publish or dismiss (they are told after commit), unless an open incident
    already covers `component`. Returns the draft, or None."""
    if component.incidents.filter(kind=Incident.Kind.INCIDENT).exclude(status__in=CLOSED_STATUSES).exists():
        return None
    reasons = [f"{c.name}: {_reading(c)}." for c in component.checks.filter(enabled=True) if c.status == new]
    incident = Incident.objects.create(
        kind=Incident.Kind.INCIDENT, name=f"{component.name}: {new.replace('_', ' ')}", status="investigating",
        impact=IMPACT_OF.get(new, Impact.MINOR), draft=True, created_at=now, updated_at=now, started_at=now,
    )
    incident.components.set([component])
    body = (f"The health checks saw {component.name} go from {old.replace('_', ' ')} to {new.replace('_', ' ')}. "
            + " ".join(reasons)).strip()
    update_add(incident=incident, status="investigating", body=body[:MAX_BODY], now=now,
               affected=[{"code": component.code, "name": component.name, "old_status": old, "new_status": new}])
    log.warning("opened draft incident %s for %s (%s → %s)", incident.code, component.name, old, new)
    draft_announce(incident=incident)
    return incident


def samples_roll_up(*, now: datetime | None = None) -> int:
    """Roll finished hours of raw samples into HourlyRollup (idempotent), then drop raw samples after 7 days,
    roll-ups after 90 and delivered webhooks after 30. Returns the number of roll-ups written."""
    now = now or timezone.now()
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    written = 0
    for check in Check.objects.all():
        last = check.rollups.order_by("-hour").values_list("hour", flat=True).first()
        since = last + timedelta(hours=1) if last else now - RAW_RETENTION
        buckets: dict[datetime, list[tuple[float | None, str]]] = {}
        rows = Sample.objects.filter(check_ref=check, at__gte=since, at__lt=current_hour).values_list("at", "value", "status")
        for at, value, status in rows:
            buckets.setdefault(at.replace(minute=0, second=0, microsecond=0), []).append((value, status))
        rollups = []
        for hour, items in sorted(buckets.items()):
            values = [v for v, _ in items if v is not None]
            rollups.append(HourlyRollup(
                check_ref=check, hour=hour, count=len(items), failures=len(items) - len(values),
                minimum=min(values) if values else None, maximum=max(values) if values else None,
                mean=sum(values) / len(values) if values else None,
                worst_status=status_logic.worst(s for _, s in items),
            ))
        HourlyRollup.objects.bulk_create(rollups, ignore_conflicts=True)
        written += len(rollups)
    Sample.objects.filter(at__lt=now - RAW_RETENTION).delete()
    HourlyRollup.objects.filter(hour__lt=now - ROLLUP_RETENTION).delete()
    WebhookDelivery.objects.filter(state=WebhookDelivery.State.DELIVERED, created_at__lt=now - DELIVERED_RETENTION).delete()
    return written
