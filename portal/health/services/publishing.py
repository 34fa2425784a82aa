"""What follows a committed change of the status page: open pages refresh, followers and staff are notified,
webhooks are queued. Call these inside the write's transaction; each effect is registered with
`transaction.on_commit(..., robust=True)`, so nothing leaves for a rolled-back write and a failure after commit
costs that one effect, never the saved write."""

from __future__ import annotations

import json
import uuid

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import status_staff
from portal.effects.services import durable, effect_enqueue
from portal.notifications.services import notify, notify_later

from .. import live, selectors
from ..models import Component, Incident, StatusFollower, Webhook, WebhookDelivery
from ..statuspage import component_dict, incident_dict, iso, page_id


def incident_publish(*, incident: Incident, event: str, actor=None) -> None:
    """After commit: refresh open status pages, tell the followers (not `actor`, who did it) and queue `event`
    for the webhooks. A draft at commit time sends nothing."""
    incident_id = incident.pk
    live.incident_broadcast(incident_id=incident_id)
    effect_enqueue(incident_followers_notify, incident_id=incident_id, actor_id=getattr(actor, "pk", None),
                   delivery_key=f"incident-followers:{incident_id}:{uuid.uuid4().hex}")
    transaction.on_commit(lambda: _incident_webhooks(incident_id=incident_id, event=event), robust=True)


def component_publish(*, component: Component, old: str) -> None:
    """After commit: swap the component's row on open pages and queue `component.updated` for the webhooks."""
    live.component_broadcast(component_id=component.pk)
    # The row as this change left it, even when a later change commits first.
    transaction.on_commit(lambda: _component_webhooks(component=component, old=old), robust=True)


def draft_announce(*, incident: Incident) -> None:
    """After commit: staff learn of a draft the health checks opened, so someone publishes or dismisses it."""
    notify_later(
        recipients=list(status_staff()), verb="incident_update", url=reverse("health:incident", args=[incident.code]),
        text=f"Draft incident from the health checks: {incident.name}. Publish or dismiss it.",
    )


def webhooks_enqueue(*, event: str, payload: dict) -> int:
    """Queue one signed POST of `payload` (with the page's state) per active webhook; the sampler sends them,
    retrying with backoff. Returns how many were queued."""
    state = selectors.overall()
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


def _incident_webhooks(*, incident_id: int, event: str) -> None:
    incident = selectors.published_incident(incident_id)
    if incident is not None:
        webhooks_enqueue(event=event, payload={"incident": incident_dict(incident, request=None)})


def _component_webhooks(*, component: Component, old: str) -> None:
    since = component.status_since
    webhooks_enqueue(
        event="component.updated",
        payload={
            "component_update": {"created_at": iso(since), "new_status": component.status, "old_status": old,
                                 "id": f"{component.code}-{int(since.timestamp())}", "component_id": component.code},
            "component": component_dict(component, position=component.position),
        },
    )
