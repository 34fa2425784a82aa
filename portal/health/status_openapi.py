"""The OpenAPI document of `/api/v2/` (`/api/v2/openapi.json`): Atlassian Statuspage's public API v2, with its field
names and enumerations (CONTRACT: Status API). The shapes are pydantic models, so a test can validate the real
answers of status_api's views against the very schemas the document is built from."""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse, JsonResponse
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

ComponentStatus = Literal["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"]
Indicator = Literal["none", "minor", "major", "critical"]
Impact = Literal["none", "minor", "major", "critical", "maintenance"]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved", "postmortem"]
MaintenanceStatus = Literal["scheduled", "in_progress", "verifying", "completed"]
Moment = str  # ISO 8601 in UTC with milliseconds, "2026-12-01T22:00:00.000Z"


class Shape(BaseModel):
    # Statuspage's fields exactly: a field the views add or drop is a test failure, not a silent drift.
    model_config = ConfigDict(extra="forbid")


class Page(Shape):
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: Moment | None


class Status(Shape):
    indicator: Indicator
    description: str


class Component(Shape):
    id: str
    name: str
    status: ComponentStatus
    created_at: Moment | None
    updated_at: Moment | None
    position: int
    description: str | None
    showcase: bool
    start_date: str | None
    group_id: str | None
    page_id: str
    group: bool
    only_show_if_degraded: bool
    components: list[str] | None = None  # a group's members (group is true)


class IncidentUpdate(Shape):
    id: str
    status: IncidentStatus | MaintenanceStatus
    body: str
    incident_id: str
    created_at: Moment | None
    updated_at: Moment | None
    display_at: Moment | None
    affected_components: list | None
    deliver_notifications: bool
    custom_tweet: str | None
    tweet_id: str | None


class Incident(Shape):
    id: str
    name: str
    status: IncidentStatus | MaintenanceStatus
    created_at: Moment | None
    updated_at: Moment | None
    monitoring_at: Moment | None
    resolved_at: Moment | None
    impact: Impact
    shortlink: str
    started_at: Moment | None
    page_id: str
    incident_updates: list[IncidentUpdate]
    components: list[Component]
    scheduled_for: Moment | None = None  # maintenances only
    scheduled_until: Moment | None = None


class ScheduledMaintenance(Incident):
    status: MaintenanceStatus
    scheduled_for: Moment | None
    scheduled_until: Moment | None


class SummaryAnswer(Shape):
    page: Page
    components: list[Component]
    incidents: list[Incident]
    scheduled_maintenances: list[ScheduledMaintenance]
    status: Status


class StatusAnswer(Shape):
    page: Page
    status: Status


class ComponentsAnswer(Shape):
    page: Page
    components: list[Component]


class IncidentsAnswer(Shape):
    page: Page
    incidents: list[Incident]


class MaintenancesAnswer(Shape):
    page: Page
    scheduled_maintenances: list[ScheduledMaintenance]


class Error(Shape):
    error: str


# path -> (summary, answer model); every path also answers 404 and 405 with {"error"}.
OPERATIONS: dict[str, tuple[str, type[Shape]]] = {
    "/api/v2/summary.json": ("Page, components, unresolved incidents, maintenances and status", SummaryAnswer),
    "/api/v2/status.json": ("The page's indicator and description", StatusAnswer),
    "/api/v2/components.json": ("Components and groups in page order", ComponentsAnswer),
    "/api/v2/incidents.json": ("Recent incidents", IncidentsAnswer),
    "/api/v2/incidents/unresolved.json": ("Incidents not yet resolved", IncidentsAnswer),
    "/api/v2/scheduled-maintenances.json": ("Scheduled maintenances", MaintenancesAnswer),
    "/api/v2/scheduled-maintenances/upcoming.json": ("Maintenances not yet started", MaintenancesAnswer),
    "/api/v2/scheduled-maintenances/active.json": ("Maintenances in progress", MaintenancesAnswer),
}


def _json(schema_ref: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema_ref}}}


def openapi_document() -> dict:
    """OpenAPI 3.1 for the status API; schemas under components/schemas, named after the models above."""
    models = {model for _, model in OPERATIONS.values()} | {Error}
    refs, definitions = models_json_schema(
        [(model, "serialization") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    error = _json(refs[(Error, "serialization")], "A sentence saying why")
    paths = {
        path: {"get": {
            "summary": summary,
            "operationId": path.removeprefix("/api/v2/").removesuffix(".json").replace("/", "_").replace("-", "_"),
            "responses": {"200": _json(refs[(model, "serialization")], "OK"), "404": error, "405": error},
        }}
        for path, (summary, model) in OPERATIONS.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "DAO Portal status API", "version": "2",
                 "description": "The same field names and values as Atlassian Statuspage's public API v2."},
        "paths": paths,
        "components": {"schemas": definitions["$defs"]},
    }


def openapi(request) -> HttpResponse:
    response = JsonResponse(openapi_document())
    response["Access-Control-Allow-Origin"] = "*"
    return response
