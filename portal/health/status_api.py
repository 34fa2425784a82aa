"""Statuspage-compatible read API (`/api/v2/`). Public, cacheable for a few seconds, CORS open like Statuspage's."""

from functools import wraps
from http import HTTPStatus

from django.http import HttpResponse, JsonResponse

from portal.cache import cached_version
from portal.errors import NotFound, Refusal, refusal_json

from . import selectors
from .statuspage import components_list, incident_dict, page_dict, status_dict


def _public(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=5"
    return response


def _answer(request, body: dict) -> HttpResponse:
    return _public(JsonResponse(body, json_dumps_params={"ensure_ascii": False}))


def read_only(view):
    """Like Django's require_GET, but the refusal is JSON like every other answer of this API."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = _public(refusal_json(Refusal("The status API is read-only; use GET.",
                                                    HTTPStatus.METHOD_NOT_ALLOWED)))
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def _page(request) -> dict:
    return page_dict(request=request, updated_at=selectors.page_updated_at())


def _status(components, incidents) -> dict:
    state = selectors.overall(components, incidents)
    return status_dict(indicator=state.indicator, any_maintenance=state.any_maintenance)


def _summary_content(request) -> bytes:
    components = selectors.component_list()
    unresolved = selectors.unresolved_incidents()
    scheduled = selectors.active_maintenances() + selectors.upcoming_maintenances()
    return _answer(request, {
        "page": _page(request),
        "components": components_list(components),
        "incidents": [incident_dict(i, request=request) for i in unresolved],
        "scheduled_maintenances": [incident_dict(i, request=request) for i in scheduled],
        "status": _status(components, unresolved),
    }).content


@read_only
def summary(request):
    # The same for every reader of this host: built once per status version (a component, group or published
    # incident changing, or a new update), its links absolute to the host asked.
    key = f"health:summary:{selectors.status_version()}:{request.scheme}://{request.get_host()}"
    content = cached_version(key, lambda: _summary_content(request), local=True)
    return _public(HttpResponse(content, content_type="application/json"))


@read_only
def status(request):
    return _answer(request, {"page": _page(request),
                             "status": _status(selectors.component_list(), selectors.unresolved_incidents())})


@read_only
def components(request):
    return _answer(request, {"page": _page(request), "components": components_list(selectors.component_list())})


@read_only
def incidents(request):
    return _answer(request, {"page": _page(request),
                             "incidents": [incident_dict(i, request=request) for i in selectors.recent_incidents()]})


@read_only
def incidents_unresolved(request):
    return _answer(request, {"page": _page(request),
                             "incidents": [incident_dict(i, request=request) for i in selectors.unresolved_incidents()]})


@read_only
def maintenances(request):
    return _answer(request, {"page": _page(request), "scheduled_maintenances": [
        incident_dict(i, request=request) for i in selectors.maintenances()]})


@read_only
def maintenances_upcoming(request):
    return _answer(request, {"page": _page(request), "scheduled_maintenances": [
        incident_dict(i, request=request) for i in selectors.upcoming_maintenances()]})


@read_only
def maintenances_active(request):
    return _answer(request, {"page": _page(request), "scheduled_maintenances": [
        incident_dict(i, request=request) for i in selectors.active_maintenances()]})


def not_found(request):
    return _public(refusal_json(NotFound("There is no such status API endpoint; see /api/v2/summary.json.")))
