"""Every write of the status page: incidents, updates, maintenance, follows, webhooks, and what they broadcast."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from http import HTTPStatus

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import is_status_staff
from portal.errors import Refusal
from portal.notifications.services import notify

from .models import (
    CLOSED_STATUSES,
    Component,
    Impact,
    Incident,
    IncidentFollower,
    IncidentStatus,
    IncidentUpdate,
    MaintenanceStatus,
    StatusFollower,
    Webhook,
    WebhookDelivery,
)
from .sync import run_async

log = logging.getLogger(__name__)
STATUS_GROUP = "status"
MAX_TITLE = 160
MAX_BODY = 5000


class StatusError(Refusal):
    """Transitional name for portal.errors.Refusal in this app."""


def require_status_staff(user) -> None:
    """Raise the refusal a person reads unless `user` may manage incidents and maintenance."""
    if not getattr(user, "is_authenticated", False):
        raise StatusError("Please sign in with a staff wallet to manage the status page.", HTTPStatus.FORBIDDEN)
    if not is_status_staff(user):
        raise StatusError("Only staff can manage incidents and maintenance.", HTTPStatus.FORBIDDEN)


def _clean_text(value: str, *, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise StatusError(f"Please write the {what}.")
    if len(value) > limit:
        raise StatusError(f"The {what} is too long: at most {limit} characters, you wrote {len(value)}.")
    return value


def _clean_components(codes: list[str]) -> list[Component]:
    codes = [c for c in dict.fromkeys(codes or []) if c]
    components = list(Component.objects.filter(code__in=codes))
    if len(components) != len(codes):
        raise StatusError("One of the chosen components does not exist (any more). Reload the page and try again.")
    return components


def _full_clean(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise StatusError(" ".join(exc.messages)) from None


def _apply_status(incident: Incident, status: str, now: datetime) -> None:
    incident.status = status
    incident.updated_at = now
    if status == "monitoring" and incident.monitoring_at is None:
        incident.monitoring_at = now
    if status in CLOSED_STATUSES and incident.resolved_at is None:
        incident.resolved_at = now
    if status not in CLOSED_STATUSES:
        incident.resolved_at = None


@transaction.atomic
def incident_create(
    *, user, name: str, impact: str, status: str, body: str, component_codes: list[str], draft: bool = False
) -> Incident:
    """Open an incident with its first update. Staff only; drafts come from the sampler (`user=None`)."""
    if user is not None or not draft:
        require_status_staff(user)
    name = _clean_text(name, what="incident title", limit=MAX_TITLE)
    if impact not in (Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL):
        raise StatusError("Please choose the impact: none, minor, major or critical.")
    if status not in IncidentStatus.values:
        raise StatusError("Please choose a status: investigating, identified, monitoring, resolved or postmortem.")
    body = _clean_text(body, what="first update", limit=MAX_BODY)
    components = _clean_components(component_codes)
    now = timezone.now()
    incident = Incident(kind=Incident.Kind.INCIDENT, name=name, impact=impact, draft=draft,
                        created_by=user, created_at=now, started_at=now)
    _apply_status(incident, status, now)
    _full_clean(incident)
    incident.save()
    incident.components.set(components)
    _add_update(incident=incident, status=status, body=body, user=user, now=now, components=components)
    if not draft:
        transaction.on_commit(lambda: incident_published(incident_id=incident.pk, event="incident.created", actor=user))
    return incident


@transaction.atomic
def maintenance_schedule(
    *, user, name: str, body: str, component_codes: list[str], scheduled_for: datetime | None,
    scheduled_until: datetime | None,
) -> Incident:
    """Announce a maintenance window; the sampler moves it to in progress and completed on time."""
    require_status_staff(user)
    name = _clean_text(name, what="maintenance title", limit=MAX_TITLE)
    body = _clean_text(body, what="announcement", limit=MAX_BODY)
    if scheduled_for is None or scheduled_until is None:
        raise StatusError("Please give the start and the end of the maintenance window.")
    if scheduled_until <= scheduled_for:
        raise StatusError("The maintenance window must end after it starts.")
    now = timezone.now()
    if scheduled_until <= now:
        raise StatusError("The maintenance window is already over; please pick a window in the future.")
    components = _clean_components(component_codes)
    if not components:
        raise StatusError("Please choose the components the maintenance affects.")
    incident = Incident(kind=Incident.Kind.MAINTENANCE, name=name, impact=Impact.MAINTENANCE, status="scheduled",
                        created_by=user, created_at=now, updated_at=now, started_at=scheduled_for,
                        scheduled_for=scheduled_for, scheduled_until=scheduled_until)
    _full_clean(incident)
    incident.save()
    incident.components.set(components)
    _add_update(incident=incident, status="scheduled", body=body, user=user, now=now, components=[])
    transaction.on_commit(lambda: incident_published(incident_id=incident.pk, event="maintenance.scheduled", actor=user))
    return incident


def _add_update(*, incident: Incident, status: str, body: str, user, now: datetime, components) -> IncidentUpdate:
    update = IncidentUpdate(
        incident=incident, status=status, body=body, author=user if getattr(user, "pk", None) else None,
        created_at=now, display_at=now,
        affected_components=[
            {"code": c.code, "name": c.name, "old_status": c.status, "new_status": c.status} for c in components
        ],
    )
    _full_clean(update)
    update.save()
    return update


@transaction.atomic
def incident_update_post(*, user, incident: Incident, status: str, body: str) -> IncidentUpdate:
    """Add an update to the timeline and move the incident (or maintenance) to `status`. Followers are told."""
    require_status_staff(user)
    allowed = MaintenanceStatus.values if incident.is_maintenance else IncidentStatus.values
    if status not in allowed:
        raise StatusError(f"Please choose a status: {', '.join(s.replace('_', ' ') for s in allowed)}.")
    body = _clean_text(body, what="update", limit=MAX_BODY)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    now = timezone.now()
    was_draft = incident.draft
    _apply_status(incident, status, now)
    incident.draft = False
    incident.save()
    update = _add_update(incident=incident, status=status, body=body, user=user, now=now,
                         components=list(incident.components.all()))
    event = "incident.created" if was_draft else "incident.updated"
    transaction.on_commit(lambda: incident_published(incident_id=incident.pk, event=event, actor=user))
    if incident.is_maintenance:
        from .sampler import components_refresh

        transaction.on_commit(lambda: components_refresh(components=list(incident.components.all()), now=timezone.now()))
    return update


@transaction.atomic
def incident_confirm(*, user, incident: Incident) -> Incident:
    """Publish a draft the sampler opened, as it stands."""
    require_status_staff(user)
    if not incident.draft:
        raise StatusError("This incident is already published.", HTTPStatus.CONFLICT)
    incident.draft = False
    incident.created_by = incident.created_by or user
    incident.updated_at = timezone.now()
    incident.save(update_fields=["draft", "created_by", "updated_at"])
    transaction.on_commit(lambda: incident_published(incident_id=incident.pk, event="incident.created", actor=user))
    return incident


@transaction.atomic
def incident_dismiss(*, user, incident: Incident) -> None:
    """Throw away a draft (a false alarm). Published incidents are never deleted."""
    require_status_staff(user)
    if not incident.draft:
        raise StatusError("Only drafts can be dismissed; resolve a published incident instead.", HTTPStatus.CONFLICT)
    incident.delete()


def status_follow(*, user, follow: bool = True) -> bool:
    """Follow (or stop following) every incident, including ones not yet opened. Returns the new state."""
    if not getattr(user, "is_authenticated", False):
        raise StatusError("Please sign in with your wallet to follow incidents.", HTTPStatus.FORBIDDEN)
    if follow:
        StatusFollower.objects.get_or_create(user=user)
    else:
        StatusFollower.objects.filter(user=user).delete()
    return follow


def incident_follow(*, user, incident: Incident, follow: bool = True) -> bool:
    """Follow (or stop following) an incident: its updates arrive as notifications. Returns the new state."""
    if not getattr(user, "is_authenticated", False):
        raise StatusError("Please sign in with your wallet to follow incidents.", HTTPStatus.FORBIDDEN)
    if incident.draft:
        raise StatusError("This incident does not exist.", HTTPStatus.NOT_FOUND)
    if follow:
        IncidentFollower.objects.get_or_create(incident=incident, user=user)
    else:
        IncidentFollower.objects.filter(incident=incident, user=user).delete()
    return follow


# --- after commit: live page, followers, webhooks --------------------------------------------------------------


def incident_published(*, incident_id: int, event: str, actor=None) -> None:
    """An incident appeared or changed: refresh live pages, tell followers (not the staff member who did it), queue
    webhooks."""
    incident = Incident.objects.filter(pk=incident_id, draft=False).first()
    if incident is None:
        return
    status_broadcast(incident=incident)
    _notify_followers(incident, actor=actor)
    from .statuspage import incident_dict

    webhooks_enqueue(event=event, payload={"incident": incident_dict(incident, request=None)})


def _notify_followers(incident: Incident, *, actor=None) -> None:
    recipients = {f.user for f in incident.followers.select_related("user")}
    recipients |= {f.user for f in StatusFollower.objects.select_related("user")}
    if not recipients:
        return
    latest = incident.updates.order_by("-display_at", "-pk").first()
    text = f"{incident.name}: {incident.status.replace('_', ' ')}"
    if latest:
        text += f" — {latest.body[:140]}"
    try:
        notify(recipients=recipients, verb="incident_update", text=text,
               url=reverse("health:incident", args=[incident.code]), actor=actor)
    except Exception:  # a notification problem must not undo or hide the update itself
        log.exception("notifying the followers of incident %s failed", incident.pk)


def status_broadcast(*, incident: Incident | None = None, component: Component | None = None) -> None:
    """Push what changed to every open status page (`/ws/status/`): an incident's fragments or a component's (one
    of them), never the whole component list; a socket that missed a change catches up from its poll."""
    from channels.layers import get_channel_layer

    from .live import component_live_html, incident_live_html
    from .selectors import status_version

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if incident is not None:
            html = incident_live_html(incident=incident)
        else:
            html = component_live_html(component=component)
        event = {"type": "status.update", "html": html, "version": status_version()}
        run_async(layer.group_send, STATUS_GROUP, event)
    except Exception:  # the page still polls; a broken layer is the channel-layer check's business
        log.exception("status broadcast failed")


def webhooks_enqueue(*, event: str, payload: dict) -> int:
    """Queue one signed POST per active webhook (sent by the sampler loop, retried with backoff)."""
    from .selectors import overall
    from .statuspage import page_id

    state = overall()
    body = json.dumps(
        {
            "meta": {"event": event, "generated_at": timezone.now().isoformat()},
            "page": {"id": page_id(), "status_indicator": state.indicator, "status_description": state.description},
            **payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    hooks = list(Webhook.objects.filter(active=True))
    WebhookDelivery.objects.bulk_create([WebhookDelivery(webhook=h, event=event, body=body) for h in hooks])
    return len(hooks)
