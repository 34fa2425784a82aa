"""Serialise the status page exactly like Atlassian Statuspage's public API v2 (same field names and values)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone as dt_timezone

from django.urls import reverse

from portal.conf import portal_settings

from . import status as status_logic
from .models import Component, ComponentGroup, Incident


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt_timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page_id() -> str:
    configured = portal_settings().health_page_id
    if configured:
        return configured
    return hashlib.sha256(portal_settings().site_name.encode()).hexdigest()[:12]


def absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def page_dict(*, request, updated_at: datetime | None) -> dict:
    return {
        "id": page_id(),
        "name": portal_settings().site_name,
        "url": absolute(request, reverse("health:index")),
        "time_zone": "Etc/UTC",
        "updated_at": iso(updated_at),
    }


def component_dict(component: Component, *, position: int) -> dict:
    return {
        "id": component.code,
        "name": component.name,
        "status": component.status,
        "created_at": iso(component.created_at),
        "updated_at": iso(component.updated_at),
        "position": position,
        "description": component.description or None,
        "showcase": True,
        "start_date": component.created_at.date().isoformat(),
        "group_id": component.group.code if component.group_id else None,
        "page_id": page_id(),
        "group": False,
        "only_show_if_degraded": False,
    }


def group_dict(group: ComponentGroup, children: list[Component], *, position: int) -> dict:
    return {
        "id": group.code,
        "name": group.name,
        "status": status_logic.worst(c.status for c in children),
        "created_at": iso(group.created_at),
        "updated_at": iso(max([group.updated_at, *(c.updated_at for c in children)])),
        "position": position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page_id(),
        "group": True,
        "only_show_if_degraded": False,
        "components": [c.code for c in children],
    }


def components_list(components: list[Component]) -> list[dict]:
    """Groups and components in page order, each group before its members (Statuspage's components.json)."""
    out: list[dict] = []
    seen_groups: set[int] = set()
    for component in components:
        if component.group_id and component.group_id not in seen_groups:
            seen_groups.add(component.group_id)
            members = [c for c in components if c.group_id == component.group_id]
            out.append(group_dict(component.group, members, position=len(out) + 1))
        out.append(component_dict(component, position=len(out) + 1))
    return out


def incident_dict(incident: Incident, *, request) -> dict:
    components = list(incident.components.all())
    positions = {c.pk: index for index, c in enumerate(components, start=1)}
    body = {
        "id": incident.code,
        "name": incident.name,
        "status": incident.status,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "monitoring_at": iso(incident.monitoring_at),
        "resolved_at": iso(incident.resolved_at),
        "impact": incident.impact,
        "shortlink": absolute(request, reverse("health:incident", args=[incident.code])),
        "started_at": iso(incident.started_at),
        "page_id": page_id(),
        "incident_updates": [
            {
                "id": update.code,
                "status": update.status,
                "body": update.body,
                "incident_id": incident.code,
                "created_at": iso(update.created_at),
                "updated_at": iso(update.created_at),
                "display_at": iso(update.display_at),
                "affected_components": update.affected_components or None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for update in incident.updates.all()
        ],
        "components": [component_dict(c, position=positions[c.pk]) for c in components],
    }
    if incident.is_maintenance:
        body["scheduled_for"] = iso(incident.scheduled_for)
        body["scheduled_until"] = iso(incident.scheduled_until)
    return body


def status_dict(*, indicator: str, any_maintenance: bool) -> dict:
    return {"indicator": indicator, "description": status_logic.page_description(indicator, any_maintenance=any_maintenance)}
