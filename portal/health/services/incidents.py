"""The writes staff and members make on the status page: incidents, their updates, maintenance windows, drafts,
follows; and the clock moving maintenance windows along."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from portal.accounts.roles import is_status_staff
from portal.errors import Conflict, Forbidden, NotFound, Refusal

from .. import status as status_logic

from ..models import (
    Component,
    Impact,
    Incident,
    IncidentFollower,
    IncidentStatus,
    IncidentUpdate,
    MaintenanceStatus,
    StatusFollower,
)
from .components import components_refresh
from .publishing import incident_publish
from .timeline import MAX_BODY, MAX_TITLE, clean_text, full_clean, status_apply, update_add

IMPACTS = (Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL)


def require_status_staff(user) -> None:
    """Raise Forbidden, with the sentence a person reads, unless `user` may manage incidents and maintenance."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("Please sign in with a staff wallet to manage the status page.")
    if not is_status_staff(user):
        raise Forbidden("Only staff can manage incidents and maintenance.")


def _require_member(user) -> None:
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("Please sign in with your wallet to follow incidents.")


SETTABLE = (status_logic.OPERATIONAL, status_logic.DEGRADED, status_logic.PARTIAL, status_logic.MAJOR)


def _statuses_set(components: list[Component], statuses: dict[str, str] | None) -> dict[str, str]:
    """The component statuses staff chose ({code: status}), for components the incident affects; a Refusal names
    a status that is not one of Statuspage's four."""
    chosen = {}
    codes = {c.code for c in components}
    for code, status in (statuses or {}).items():
        if not status or code not in codes:
            continue
        if status not in SETTABLE:
            raise Refusal("A component's status is one of: operational, degraded performance, partial outage, "
                          "major outage.")
        chosen[code] = status
    return chosen


def _affected(components: list[Component], chosen: dict[str, str]) -> list[dict]:
    """Statuspage's `affected_components`: each named component, from its status to the one staff set (if any)."""
    return [{"code": c.code, "name": c.name, "old_status": c.status, "new_status": chosen.get(c.code, c.status)}
            for c in components]


def _components(codes: list[str]) -> list[Component]:
    codes = [c for c in dict.fromkeys(codes or []) if c]
    components = list(Component.objects.filter(code__in=codes))
    if len(components) != len(codes):
        raise Refusal("One of the chosen components does not exist (any more). Reload the page and try again.")
    return components


@transaction.atomic
def incident_create(
    *, user, name: str, impact: str, status: str, body: str, component_codes: list[str], draft: bool = False,
    component_statuses: dict[str, str] | None = None,
) -> Incident:
    """Open an incident with its first update and publish it after commit. Staff only; a draft with `user=None`
    stays private until staff confirm it. `component_statuses` ({code: status}) sets affected components' status
    while the incident is open. Raises a Refusal naming the first bad input; nothing is written then."""
    if user is not None or not draft:
        require_status_staff(user)
    name = clean_text(name, what="incident title", limit=MAX_TITLE)
    if impact not in IMPACTS:
        raise Refusal("Please choose the impact: none, minor, major or critical.")
    if status not in IncidentStatus.values:
        raise Refusal("Please choose a status: investigating, identified, monitoring, resolved or postmortem.")
    body = clean_text(body, what="first update", limit=MAX_BODY)
    components = _components(component_codes)
    chosen = _statuses_set(components, component_statuses)
    now = timezone.now()
    incident = Incident(kind=Incident.Kind.INCIDENT, name=name, impact=impact, draft=draft,
                        created_by=user, created_at=now, started_at=now, component_statuses=chosen)
    status_apply(incident, status, now)
    full_clean(incident)
    incident.save()
    incident.components.set(components)
    update_add(incident=incident, status=status, body=body, author=user, now=now, affected=_affected(components, chosen))
    if not draft:
        incident_publish(incident=incident, event="incident.created", actor=user)
        components_refresh(components=components, now=now)
    return incident


@transaction.atomic
def maintenance_schedule(
    *, user, name: str, body: str, component_codes: list[str], scheduled_for: datetime | None,
    scheduled_until: datetime | None,
) -> Incident:
    """Announce a maintenance window in the future; `maintenances_advance` starts and completes it on time.
    Staff only; raises a Refusal naming the first bad input."""
    require_status_staff(user)
    name = clean_text(name, what="maintenance title", limit=MAX_TITLE)
    body = clean_text(body, what="announcement", limit=MAX_BODY)
    if scheduled_for is None or scheduled_until is None:
        raise Refusal("Please give the start and the end of the maintenance window.")
    if scheduled_until <= scheduled_for:
        raise Refusal("The maintenance window must end after it starts.")
    now = timezone.now()
    if scheduled_until <= now:
        raise Refusal("The maintenance window is already over; please pick a window in the future.")
    components = _components(component_codes)
    if not components:
        raise Refusal("Please choose the components the maintenance affects.")
    incident = Incident(kind=Incident.Kind.MAINTENANCE, name=name, impact=Impact.MAINTENANCE, status="scheduled",
                        created_by=user, created_at=now, updated_at=now, started_at=scheduled_for,
                        scheduled_for=scheduled_for, scheduled_until=scheduled_until)
    full_clean(incident)
    incident.save()
    incident.components.set(components)
    update_add(incident=incident, status="scheduled", body=body, author=user, now=now)
    incident_publish(incident=incident, event="maintenance.scheduled", actor=user)
    return incident


@transaction.atomic
def incident_update_post(
    *, user, incident: Incident, status: str, body: str, component_statuses: dict[str, str] | None = None
) -> IncidentUpdate:
    """Add an update to the timeline and move the incident (or maintenance) to `status`; a draft is published by
    it. Staff only. `component_statuses` ({code: status}) changes what the incident says of its components.
    Followers, pages and webhooks hear of it after commit; the components follow (a closed incident sets none)."""
    require_status_staff(user)
    allowed = MaintenanceStatus.values if incident.is_maintenance else IncidentStatus.values
    if status not in allowed:
        raise Refusal(f"Please choose a status: {', '.join(s.replace('_', ' ') for s in allowed)}.")
    body = clean_text(body, what="update", limit=MAX_BODY)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    components = list(incident.components.all())
    before = dict(incident.component_statuses)
    if component_statuses is not None and not incident.is_maintenance:
        # Each component the form names is set anew ("" leaves it to its checks); the others keep theirs.
        kept = {code: value for code, value in before.items() if code not in component_statuses}
        incident.component_statuses = {**kept, **_statuses_set(components, component_statuses)}
    now = timezone.now()
    was_draft, was_open = incident.draft, incident.is_open
    status_apply(incident, status, now)
    incident.draft = False
    incident.save()
    chosen = {} if incident.is_maintenance or component_statuses is None else incident.component_statuses
    update = update_add(incident=incident, status=status, body=body, author=user, now=now,
                        affected=_affected(components, chosen))
    incident_publish(incident=incident, event="incident.created" if was_draft else "incident.updated", actor=user)
    # The components move when what this incident says of them does: new statuses, or it closed or reopened.
    said_before = before if was_open and not was_draft else {}
    said_now = incident.component_statuses if incident.is_open else {}
    if incident.is_maintenance or said_before != said_now:
        components_refresh(components=components, now=now)
    return update


@transaction.atomic
def incident_confirm(*, user, incident: Incident) -> Incident:
    """Publish a draft the health checks opened, as it stands. Staff only; Conflict when it is already public."""
    require_status_staff(user)
    if not incident.draft:
        raise Conflict("This incident is already published.")
    incident.draft = False
    incident.created_by = incident.created_by or user
    incident.updated_at = timezone.now()
    incident.save(update_fields=["draft", "created_by", "updated_at"])
    incident_publish(incident=incident, event="incident.created", actor=user)
    return incident


@transaction.atomic
def incident_dismiss(*, user, incident: Incident) -> None:
    """Throw away a draft (a false alarm). Staff only; published incidents are never deleted (Conflict)."""
    require_status_staff(user)
    if not incident.draft:
        raise Conflict("Only drafts can be dismissed; resolve a published incident instead.")
    incident.delete()


def status_follow(*, user, follow: bool = True) -> bool:
    """Follow (or stop following) every incident, including ones not yet opened. Returns the new state."""
    _require_member(user)
    if follow:
        StatusFollower.objects.get_or_create(user=user)
    else:
        StatusFollower.objects.filter(user=user).delete()
    return follow


def incident_follow(*, user, incident: Incident, follow: bool = True) -> bool:
    """Follow (or stop following) an incident: its updates arrive as notifications. Returns the new state."""
    _require_member(user)
    if incident.draft:
        raise NotFound("This incident does not exist.")
    if follow:
        IncidentFollower.objects.get_or_create(incident=incident, user=user)
    else:
        IncidentFollower.objects.filter(incident=incident, user=user).delete()
    return follow


def maintenances_advance(*, now: datetime | None = None) -> list[Incident]:
    """Start the maintenance windows that began and complete the ones that ended, each with its update, and settle
    their components. Returns the maintenances moved."""
    now = now or timezone.now()
    maintenance = Incident.objects.filter(kind=Incident.Kind.MAINTENANCE)
    steps = [
        (maintenance.filter(status="scheduled", scheduled_for__lte=now, scheduled_until__gt=now),
         "in_progress", "Scheduled maintenance is currently in progress."),
        (maintenance.filter(status__in=["scheduled", "in_progress", "verifying"], scheduled_until__lte=now),
         "completed", "The scheduled maintenance has been completed."),
    ]
    moved = []
    for due, status, body in steps:
        for incident in due:
            with transaction.atomic():
                status_apply(incident, status, now)
                incident.save()
                update_add(incident=incident, status=status, body=body, now=now)
                incident_publish(incident=incident, event="maintenance.updated")
                components_refresh(components=list(incident.components.all()), now=now)
            moved.append(incident)
    return moved
