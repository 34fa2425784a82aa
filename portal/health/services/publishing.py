"""What follows a change of the status page: open pages refresh, followers and staff are notified, webhooks are
sent. Call these inside the write's transaction: notices and webhooks are durable effects queued with the write
(portal.effects), so they happen if and only if it commits, and live updates leave after commit (best-effort)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.urls import reverse

from portal.accounts.roles import status_staff
from portal.effects.services import durable, effect_enqueue
from portal.notifications.services import notify, notify_later

from .. import live, selectors
from ..models import Component, Incident, StatusFollower
from ..statuspage import component_dict, incident_dict, iso, page_id
from ..webhooks import webhooks_send
from .subscriptions import status_mails_enqueue


def incident_publish(*, incident: Incident, event: str, actor=None) -> None:
    """Inside the write's transaction: refresh open status pages after commit, and queue as durable effects the
    followers' notice (not `actor`, who did it) and `event` for the webhooks. A draft sends nothing."""
    incident_id = incident.pk
    live.incident_broadcast(incident_id=incident_id)
    effect_enqueue(incident_followers_notify, incident_id=incident_id, actor_id=getattr(actor, "pk", None),
                   delivery_key=f"incident-followers:{incident_id}:{uuid.uuid4().hex}")
    webhooks_enqueue(event=event, payload=lambda: _incident_payload(incident_id))
    status_mails_enqueue(incident=incident, event=event)  # subscribers' mail, queued with the write itself


def component_publish(*, component: Component, old: str) -> None:
    """Inside the write's transaction: swap the component's row on open pages after commit and queue
    `component.updated` for the webhooks, with the row as this change left it."""
    live.component_broadcast(component_id=component.pk)
    since = component.status_since
    webhooks_enqueue(event="component.updated", payload=lambda: {
        "component_update": {"created_at": iso(since), "new_status": component.status, "old_status": old,
                             "id": f"{component.code}-{int(since.timestamp())}", "component_id": component.code},
        "component": component_dict(component, position=component.position),
    })


def draft_announce(*, incident: Incident) -> None:
    """After commit: staff learn of a draft the health checks opened, so someone publishes or dismisses it."""
    notify_later(
        recipients=list(status_staff()), verb="incident_update", url=reverse("health:incident", args=[incident.code]),
        text=f"Draft incident from the health checks: {incident.name}. Publish or dismiss it.",
    )


def webhooks_enqueue(*, event: str, payload: dict | Callable[[], dict | None]) -> int:
    """Queue one signed POST of `payload` (with the page's state) per active status webhook, as durable effects in
    the caller's transaction (portal.health.webhooks). Returns how many were queued."""
    def body() -> dict | None:
        content = payload() if callable(payload) else payload
        if content is None:
            return None
        state = selectors.overall()
        return {"page": {"id": page_id(), "status_indicator": state.indicator, "status_description": state.description},
                **content}

    return webhooks_send(event=event, payload=body)


def _incident_payload(incident_id: int) -> dict | None:
    incident = selectors.published_incident(incident_id)  # a draft sends nothing
    return None if incident is None else {"incident": incident_dict(incident, request=None)}


@durable(eager=True)
def incident_followers_notify(*, incident_id: int, actor_id: int | None, delivery_key: str) -> None:
    """A durable effect of `incident_publish`: the incident's and the page's followers hear of it, as it stands
    when the effect runs (a draft by then tells nobody)."""
    incident = selectors.published_incident(incident_id)
    if incident is None:
        return
    recipients = {f.user for f in incident.followers.select_related("user")}
    recipients |= {f.user for f in StatusFollower.objects.select_related("user")}
    if not recipients:
        return
    latest = next(iter(incident.updates.all()), None)  # newest first
    text = f"{incident.name}: {incident.status.replace('_', ' ')}"
    if latest:
        text += f" — {latest.body[:140]}"
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    notify(recipients=recipients, verb="incident_update", text=text,
           url=reverse("health:incident", args=[incident.code]), actor=actor, key=delivery_key)
