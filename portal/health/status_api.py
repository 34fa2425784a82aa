"""Statuspage-compatible read API (`/api/v2/`). Public, cacheable for a few seconds, CORS open like Statuspage's."""

from http import HTTPStatus

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from . import selectors
from .statuspage import components_list, incident_dict, page_dict, status_dict


def _answer(request, body: dict, status: int = HTTPStatus.OK) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=5"
    return response


def _page(request) -> dict:
    return page_dict(request=request, updated_at=selectors.page_updated_at())


def _status(components, incidents) -> dict:
    state = selectors.overall(components, incidents)
    return status_dict(indicator=state.indicator, any_maintenance=state.any_maintenance)


@require_GET
def summary(request):
    components = selectors.component_list()
    unresolved = selectors.unresolved_incidents()
    scheduled = selectors.active_maintenances() + selectors.upcoming_maintenances()
    return _answer(request, {
        "page": _page(request),
        "components": components_list(components),
        "incidents": [incident_dict(i, request=request) for i in unresolved],
        "scheduled_maintenances": [incident_dict(i, request=request) for i in scheduled],
        "status": _status(components, unresolved),
    })


@require_GET
def status(request):
    return _answer(request, {"page": _page(request),
                             "status": _status(selectors.component_list(), selectors.unresolved_incidents())})


@require_GET
def components(request):
    return _answer(request, {"page": _page(request), "components": components_list(selectors.component_list())})


@require_GET
def incidents(request):
    return _answer(request, {"page": _page(request),
                             "incidents": [incident_dict(i, request=request) for i in selectors.recent_incidents()]})


@require_GET
def incidents_unresolved(request):
    return _answer(request, {"page": _page(request),
                             "incidents": [incident_dict(i, request=request) for i in selectors.unresolved_incidents()]})


@require_GET
def maintenances(request):
    return _answer(request, {"page": _page(request), "scheduled_maintenances": [
        incident_dict(i, request=request) for i in selectors.maintenances()]})


@require_GET
def maintenances_upcoming(request):
    return _answer(request, {"page": _page(request), "scheduled_maintenances": [
        incident_dict(i, request=request) for i in selectors.upcoming_maintenances()]})


@require_GET
def maintenances_active(request):
    return _answer(request, {"page": _page(request), "scheduled_maintenances": [
        incident_dict(i, request=request) for i in selectors.active_maintenances()]})


def not_found(request):
    return _answer(request, {"error": "There is no such status API endpoint; see /api/v2/summary.json."},
                   HTTPStatus.NOT_FOUND)
