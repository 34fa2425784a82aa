"""The sampler: run due checks, settle statuses with hysteresis, log changes, open draft incidents, keep maintenance
windows on time, roll samples up hourly and prune old ones. `manage.py run_health_checks` drives it."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta

from django.db import close_old_connections, transaction
from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import status_staff
from portal.notifications.services import notify

from . import status as status_logic
from .checks import measure
from .models import (
    Check,
    Component,
    ComponentStatusChange,
    Direction,
    HourlyRollup,
    Impact,
    Incident,
    IncidentUpdate,
    Sample,
    WebhookDelivery,
)

log = logging.getLogger(__name__)
RAW_RETENTION = timedelta(days=7)
ROLLUP_RETENTION = timedelta(days=90)
DRAFT_AT = (status_logic.PARTIAL, status_logic.MAJOR)
IMPACT_OF = {status_logic.DEGRADED: Impact.MINOR, status_logic.PARTIAL: Impact.MAJOR, status_logic.MAJOR: Impact.CRITICAL}


def thresholds_of(check: Check) -> status_logic.Thresholds:
    return status_logic.Thresholds(check.degraded_at, check.partial_at, check.major_at,
                                   lower_is_worse=check.direction == Direction.LOWER_IS_WORSE)


def sample_check(check: Check, *, now: datetime | None = None) -> Sample:
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


def in_maintenance(component: Component) -> bool:
    return component.incidents.filter(kind=Incident.Kind.MAINTENANCE, draft=False,
                                      status__in=["in_progress", "verifying"]).exists()


def components_refresh(*, components: list[Component], now: datetime | None = None) -> list[Component]:
    """Recompute each component's status from its checks (and maintenance); log, broadcast and alert on change."""
    now = now or timezone.now()
    changed = []
    for component in components:
        component.refresh_from_db()
        checked = status_logic.worst(c.status for c in component.checks.filter(enabled=True))
        new = status_logic.MAINTENANCE if in_maintenance(component) else checked
        if new == component.status:
            continue
        old = component.status
        with transaction.atomic():
            component.status, component.status_since = new, now
            component.save(update_fields=["status", "status_since", "updated_at"])
            ComponentStatusChange.objects.create(component=component, status=new, at=now)
            if new in DRAFT_AT and status_logic.SEVERITY[old] < status_logic.SEVERITY[new]:
                open_draft_incident(component=component, old=old, new=new, now=now)
            transaction.on_commit(lambda c=component, o=old: _component_changed(component=c, old=o))
        changed.append(component)
    return changed


def _component_changed(*, component: Component, old: str) -> None:
    from .services import status_broadcast, webhooks_enqueue
    from .statuspage import component_dict, iso

    status_broadcast(component=component)
    webhooks_enqueue(
        event="component.updated",
        payload={
            "component_update": {"created_at": iso(component.status_since), "new_status": component.status,
                                 "old_status": old, "id": f"{component.code}-{int(component.status_since.timestamp())}",
                                 "component_id": component.code},
            "component": component_dict(component, position=component.position),
        },
    )


def reading(check: Check) -> str:
    if check.last_error:
        return check.last_error.rstrip(".")
    if check.last_value is None:
        return "no value yet"
    return f"{check.last_value:g} {check.unit}".strip()


def open_draft_incident(*, component: Component, old: str, new: str, now: datetime) -> Incident | None:
    """A private draft for staff to confirm, unless an open incident already covers this component."""
    open_ = component.incidents.filter(kind=Incident.Kind.INCIDENT).exclude(status__in=["resolved", "postmortem"])
    if open_.exists():
        return None
    reasons = [f"{c.name}: {reading(c)}." for c in component.checks.filter(enabled=True) if c.status == new]
    incident = Incident.objects.create(
        kind=Incident.Kind.INCIDENT, name=f"{component.name}: {new.replace('_', ' ')}", status="investigating",
        impact=IMPACT_OF.get(new, Impact.MINOR), draft=True, created_at=now, updated_at=now, started_at=now,
    )
    incident.components.set([component])
    body = (f"The health checks saw {component.name} go from {old.replace('_', ' ')} to {new.replace('_', ' ')}. "
            + " ".join(reasons)).strip()
    IncidentUpdate.objects.create(incident=incident, status="investigating", body=body[:5000], created_at=now, display_at=now,
                                  affected_components=[{"code": component.code, "name": component.name,
                                                        "old_status": old, "new_status": new}])
    log.warning("opened draft incident %s for %s (%s → %s)", incident.code, component.name, old, new)
    transaction.on_commit(lambda: _tell_staff_of_draft(incident))
    return incident


def _tell_staff_of_draft(incident: Incident) -> None:
    """Staff learn of a draft in their notifications, so someone confirms or dismisses it."""
    try:
        notify(recipients=list(status_staff()), verb="incident_update", url=reverse("health:incident", args=[incident.code]),
               text=f"Draft incident from the health checks: {incident.name}. Publish or dismiss it.")
    except Exception:
        log.exception("telling staff of draft incident %s failed", incident.pk)


def maintenance_tick(*, now: datetime | None = None) -> list[Incident]:
    """Start maintenance windows that began and complete the ones that ended."""
    now = now or timezone.now()
    moved = []
    transitions = [
        (Incident.objects.filter(kind=Incident.Kind.MAINTENANCE, status="scheduled", scheduled_for__lte=now,
                                 scheduled_until__gt=now), "in_progress", "Scheduled maintenance is currently in progress."),
        (Incident.objects.filter(kind=Incident.Kind.MAINTENANCE, status__in=["scheduled", "in_progress", "verifying"],
                                 scheduled_until__lte=now), "completed", "The scheduled maintenance has been completed."),
    ]
    for queryset, status, body in transitions:
        for incident in queryset:
            with transaction.atomic():
                incident.status, incident.updated_at = status, now
                if status == "completed":
                    incident.resolved_at = now
                incident.save()
                IncidentUpdate.objects.create(incident=incident, status=status, body=body, created_at=now, display_at=now)
                from .services import incident_published

                transaction.on_commit(lambda i=incident: incident_published(incident_id=i.pk, event="maintenance.updated"))
            components_refresh(components=list(incident.components.all()), now=now)
            moved.append(incident)
    return moved


def run_due_checks(*, now: datetime | None = None, force: bool = False) -> list[Sample]:
    """Run every enabled check whose interval has passed (all of them with `force`), then settle the components."""
    now = now or timezone.now()
    samples = []
    touched: dict[int, Component] = {}
    for check in Check.objects.filter(enabled=True).select_related("component"):
        if not force and check.last_run_at and check.last_run_at + timedelta(seconds=check.interval_seconds) > now:
            continue
        samples.append(sample_check(check, now=timezone.now()))
        touched[check.component_id] = check.component
    maintenance_tick(now=now)
    # The status log records when a change was seen, not when the tick was due.
    components_refresh(components=list(touched.values()), now=timezone.now())
    return samples


def rollup_and_prune(*, now: datetime | None = None) -> int:
    """Roll finished hours of raw samples into HourlyRollup, then drop raw samples after 7 days and roll-ups after
    90. Returns the number of roll-ups written."""
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
    WebhookDelivery.objects.filter(state=WebhookDelivery.State.DELIVERED, created_at__lt=now - timedelta(days=30)).delete()
    return written


class Sampler:
    """The long-running loop of `run_health_checks`: one tick a second, stops cleanly on SIGTERM / SIGINT.

    Nothing it meets stops it: an unreachable chain is an outage sample, a database error is logged and retried.
    """

    def __init__(self, *, tick_seconds: float = 1.0, housekeeping_seconds: float = 300.0, stdout=None):
        self.tick_seconds = tick_seconds
        self.housekeeping_seconds = housekeeping_seconds
        self.stopping = threading.Event()
        self.stdout = stdout

    def stop(self, *_args) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run_once(self, *, force: bool = True) -> list[Sample]:
        from governance.services import proposals_close_due

        from .webhooks import deliver_due

        samples = run_due_checks(force=force)
        deliver_due()
        proposals_close_due()
        return samples

    def run_forever(self) -> None:
        from governance.services import proposals_close_due

        from .webhooks import deliver_due

        last_housekeeping = None
        failures = 0
        while not self.stopping.is_set():
            try:
                close_old_connections()
                run_due_checks()
                deliver_due()
                # The one background process also records proposals that closed by the clock, so their voters
                # are notified promptly (the state itself never waits for this).
                proposals_close_due()
                now = timezone.now()
                if last_housekeeping is None or (now - last_housekeeping).total_seconds() >= self.housekeeping_seconds:
                    rollup_and_prune(now=now)
                    last_housekeeping = now
                failures = 0
            except Exception:
                failures += 1
                log.exception("health sampler tick failed (%s in a row); retrying", failures)
                close_old_connections()
            self.stopping.wait(min(self.tick_seconds * (2 ** min(failures, 5)), 30))
