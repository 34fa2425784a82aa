"""`/api/v2/*.json`, shaped like Atlassian Statuspage."""

from django.urls import path, re_path

from . import status_api, status_openapi

urlpatterns = [
    path("summary.json", status_api.summary, name="statuspage-summary"),
    path("status.json", status_api.status, name="statuspage-status"),
    path("components.json", status_api.components, name="statuspage-components"),
    path("incidents.json", status_api.incidents, name="statuspage-incidents"),
    path("incidents/unresolved.json", status_api.incidents_unresolved, name="statuspage-incidents-unresolved"),
    path("scheduled-maintenances.json", status_api.maintenances, name="statuspage-maintenances"),
    path("scheduled-maintenances/upcoming.json", status_api.maintenances_upcoming, name="statuspage-maintenances-upcoming"),
    path("scheduled-maintenances/active.json", status_api.maintenances_active, name="statuspage-maintenances-active"),
    path("openapi.json", status_openapi.openapi, name="statuspage-openapi"),
    re_path(r"^.*$", status_api.not_found),
]
