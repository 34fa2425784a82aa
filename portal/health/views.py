"""Status pages: thin views over selectors and services."""

from http import HTTPStatus

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.roles import is_status_staff

from . import selectors, services
from .forms import IncidentForm, MaintenanceForm, UpdateForm
from .live import attach_uptime, page_context
from .models import Component, Incident, IncidentFollower, IncidentStatus, MaintenanceStatus, StatusFollower


def _index_page(request, *, error: str = "", status: int = HTTPStatus.OK):
    context = page_context()
    context["history"] = selectors.incident_history(days=14)
    context["is_staff"] = is_status_staff(request.user)
    context["following_all"] = (request.user.is_authenticated
                                and StatusFollower.objects.filter(user=request.user).exists())
    if context["is_staff"]:
        context["drafts"] = selectors.draft_incidents()
        context["failed_deliveries"] = selectors.failed_webhook_deliveries()
    context["error"] = error
    return TemplateResponse(request, "health/index.html", context, status=status)


@require_GET
def index(request):
    return _index_page(request)


@require_GET
def history(request):
    return TemplateResponse(request, "health/history.html", {"history": selectors.incident_history(days=90)})


@require_GET
def component_detail(request, slug: str):
    component = get_object_or_404(Component.objects.select_related("group"), slug=slug)
    attach_uptime([component])
    incidents = Incident.objects.filter(draft=False, components=component).order_by("-started_at")[:10]
    return TemplateResponse(request, "health/component.html", {
        "component": component,
        "checks": selectors.component_checks(component),
        "incidents": incidents,
        "ranges": list(selectors.RANGES),
        "status_version": selectors.status_version(),
    })


@require_GET
def component_metrics(request, slug: str):
    component = get_object_or_404(Component, slug=slug)
    range_key = request.GET.get("range", "24h")
    if range_key not in selectors.RANGES:
        return JsonResponse({"error": "The range must be one of 24h, 7d or 90d."}, status=HTTPStatus.BAD_REQUEST)
    return JsonResponse({
        "range": range_key,
        "checks": [
            {"slug": c.slug, "name": c.name, "unit": c.unit, "degraded_at": c.degraded_at, "partial_at": c.partial_at,
             "major_at": c.major_at, "series": selectors.metric_series(c, range_key=range_key)}
            for c in selectors.component_checks(component)
        ],
    })


def _incident_or_404(request, code: str) -> Incident:
    incident = Incident.objects.filter(code=code).first()
    if incident is None or (incident.draft and not is_status_staff(request.user)):
        raise Http404("There is no such incident.")
    return incident


def _incident_page(request, incident: Incident, *, form=None, error: str = "", status: int = HTTPStatus.OK):
    following = (request.user.is_authenticated
                 and IncidentFollower.objects.filter(incident=incident, user=request.user).exists())
    choices = MaintenanceStatus.choices if incident.is_maintenance else IncidentStatus.choices
    return TemplateResponse(request, "health/incident.html", {
        "incident": incident,
        "updates": list(incident.updates.order_by("-display_at", "-pk")),
        "affected": list(incident.components.all()),
        "following": following,
        "is_staff": is_status_staff(request.user),
        "form": form or UpdateForm(initial={"status": incident.status}),
        "status_choices": choices,
        "error": error,
        "status_version": selectors.status_version(),
    }, status=status)


@require_GET
def incident_detail(request, code: str):
    return _incident_page(request, _incident_or_404(request, code))


def _refused(request, exc: services.StatusError, template: str, context: dict):
    return TemplateResponse(request, template, {**context, "error": str(exc)}, status=exc.status)


def _staff_form(request, *, form, template: str, context: dict, create):
    """GET shows the form to staff; POST parses it and creates through `create(cleaned_data)`. Who may, and what is
    wrong with the input, the services say."""
    context = {"form": form, **context}
    try:
        services.require_status_staff(request.user)
        if request.method != "POST":
            return TemplateResponse(request, template, context)
        if not form.is_valid():
            raise services.StatusError(_first_error(form))
        incident = create(form.cleaned_data)
    except services.StatusError as exc:
        return _refused(request, exc, template, context)
    return redirect("health:incident", code=incident.code)


def incident_new(request):
    form = IncidentForm(request.POST if request.method == "POST" else None)
    return _staff_form(
        request, form=form, template="health/incident_form.html",
        context={"impacts": form.fields["impact"].choices, "statuses": IncidentStatus.choices},
        create=lambda data: services.incident_create(
            user=request.user, name=data["name"], impact=data["impact"], status=data["status"], body=data["body"],
            component_codes=data["components"]),
    )


def maintenance_new(request):
    form = MaintenanceForm(request.POST if request.method == "POST" else None)
    return _staff_form(
        request, form=form, template="health/maintenance_form.html", context={},
        create=lambda data: services.maintenance_schedule(
            user=request.user, name=data["name"], body=data["body"], component_codes=data["components"],
            scheduled_for=data["scheduled_for"], scheduled_until=data["scheduled_until"]),
    )


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ").capitalize() if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return "The form is not valid."


@require_POST
def incident_update(request, code: str):
    incident = _incident_or_404(request, code)
    form = UpdateForm(request.POST)
    form.is_valid()
    try:
        services.incident_update_post(user=request.user, incident=incident, status=form.cleaned_data.get("status", ""),
                                      body=form.cleaned_data.get("body", ""))
    except services.StatusError as exc:
        return _incident_page(request, incident, form=form, error=str(exc), status=exc.status)
    return redirect("health:incident", code=incident.code)


@require_POST
def incident_confirm(request, code: str):
    incident = _incident_or_404(request, code)
    try:
        services.incident_confirm(user=request.user, incident=incident)
    except services.StatusError as exc:
        return _incident_page(request, incident, error=str(exc), status=exc.status)
    return redirect("health:incident", code=incident.code)


@require_POST
def incident_dismiss(request, code: str):
    incident = _incident_or_404(request, code)
    try:
        services.incident_dismiss(user=request.user, incident=incident)
    except services.StatusError as exc:
        return _incident_page(request, incident, error=str(exc), status=exc.status)
    return redirect("health:index")


@require_POST
def incident_follow(request, code: str):
    incident = _incident_or_404(request, code)
    follow = request.POST.get("follow", "1") != "0"
    try:
        services.incident_follow(user=request.user, incident=incident, follow=follow)
    except services.StatusError as exc:
        return _incident_page(request, incident, error=str(exc), status=exc.status)
    return redirect(reverse("health:incident", args=[incident.code]))


@require_POST
def follow_all(request):
    try:
        services.status_follow(user=request.user, follow=request.POST.get("follow", "1") != "0")
    except services.StatusError as exc:
        return _index_page(request, error=str(exc), status=exc.status)
    return redirect("health:index")
