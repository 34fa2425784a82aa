"""Status pages: thin views over selectors and services. Every form view answers through `_written`, and every
refusal through portal.errors.refusal_response (or RefusalMiddleware for a refusal on a page that has no form)."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.roles import is_status_staff
from portal.cache import cached_version, page_filled, page_holes, signed_out_reader, signed_out_shell, versioned_key
from portal.errors import Refusal, refusal_json, refusal_response
from portal.notifications.tokens import confirm_read
from portal.ratelimit import client_ip

from . import selectors, services
from .forms import COMPONENT_STATUSES, IncidentForm, MaintenanceForm, UpdateForm, component_statuses_from
from .live import attach_uptime, page_context
from .models import Component, Incident, IncidentStatus, MaintenanceStatus, Webhook
from .services import subscriptions
from .services import webhooks as webhook_services
from .webhooks import MAX_ATTEMPTS, SIGNATURE_HEADER, TOPICS


def _written(request, write, *, then, page):
    """Run the service call `write()` and redirect to `then(result)`. A refusal re-renders the page — `page()`
    gives (template, context) — with its sentence and status, so the person sees what to fix where they were."""
    try:
        result = write()
    except Refusal as refusal:
        template, context = page()
        return refusal_response(request, refusal, template=template, context=context)
    return redirect(then(result))


# Today's bar, its uptime and "updated 5 minutes ago" move with the clock: a rendering is kept for the minute it
# was made in, under the version of everything else the page shows (status_version: the status log's newest row too).
PAGE_SECONDS = 60


def _public_parts() -> dict:
    """What /status/ shows every reader, rendered without a request (so nothing of one reader's is in it)."""
    context = page_context()
    context["history"] = selectors.incident_history(days=14)
    return {
        "overall": context["overall"],
        "active_html": render_to_string("health/_fragments.html#active", context),
        "groups_html": render_to_string("health/_fragments.html#groups", context),
        "history_html": render_to_string("health/index.html#history", context),
        "components": [{"slug": c.slug, "name": c.name} for c in context["components"]],
    }


def _banner_html(overall) -> str:
    """The banner: the overall status and the time of this request ("updated 15:31:07 UTC")."""
    return render_to_string("health/_fragments.html#banner", {"overall": overall, "updated_at": timezone.now()})


def _index_context(request, *, version: str | None = None) -> dict:
    version = version or selectors.status_version()
    key = versioned_key("health:status-page", version, minute_seconds=PAGE_SECONDS)
    context = {**cached_version(key, _public_parts, timeout=PAGE_SECONDS), "status_version": version}
    for part in ("active_html", "groups_html", "history_html"):
        context[part] = mark_safe(context[part])  # noqa: S308 — our templates' output
    context["banner_html"] = mark_safe(_banner_html(context["overall"]))  # noqa: S308 — as above
    context["is_staff"] = is_status_staff(request.user)
    context["following_all"] = selectors.follows_all(request.user)
    if context["is_staff"]:
        context["drafts"] = selectors.draft_incidents()
        context["failed_deliveries"] = selectors.failed_webhook_deliveries()
    return context


def _signed_out_shell(request, *, version: str) -> dict:
    """The whole of /status/ as a signed-out reader without messages sees it, cut where each request's own parts go:
    its CSRF token and the banner with its time. Rendered without the request's context processors' own values (the
    request stands only for the layout's current section), so nothing of the reader who primed it is in it."""
    holes = page_holes("csrf_token", "banner")
    context = {**_index_context(request, version=version), "banner_html": holes["banner"]}
    return {"pieces": signed_out_shell(request, "health/index.html", context, holes), "overall": context["overall"]}


def _signed_out_page(request) -> str:
    """/status/ for a signed-out reader: the shell kept per status version and minute (as the public parts are),
    filled with this request's CSRF token and banner. Saves rendering the layout and the page around the parts."""
    version = selectors.status_version()
    key = versioned_key("health:status-page:signed-out", version, get_script_prefix(), minute_seconds=PAGE_SECONDS)
    shell = cached_version(key, lambda: _signed_out_shell(request, version=version), timeout=PAGE_SECONDS, local=True)
    return page_filled(shell["pieces"], {"csrf_token": get_token(request), "banner": _banner_html(shell["overall"])})


@require_GET
def index(request):
    if signed_out_reader(request):
        return HttpResponse(_signed_out_page(request))
    return TemplateResponse(request, "health/index.html", _index_context(request))


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
        return refusal_json(Refusal("The range must be one of 24h, 7d or 90d."))
    return JsonResponse({
        "range": range_key,
        "checks": [
            {"slug": c.slug, "name": c.name, "unit": c.unit, "degraded_at": c.degraded_at, "partial_at": c.partial_at,
             "major_at": c.major_at, "series": selectors.metric_series(c, range_key=range_key)}
            for c in selectors.component_checks(component)
        ],
    })


def _incident_context(request, incident: Incident, *, form=None) -> dict:
    affected = list(incident.components.all())
    for component in affected:  # what this incident says of it, for the staff form's choice
        component.set_status = incident.component_statuses.get(component.code, "")
    return {
        "incident": incident,
        "updates": list(incident.updates.order_by("-display_at", "-pk")),
        "affected": affected,
        "following": selectors.follows(request.user, incident),
        "is_staff": is_status_staff(request.user),
        "form": form or UpdateForm(initial={"status": incident.status}),
        "status_choices": MaintenanceStatus.choices if incident.is_maintenance else IncidentStatus.choices,
        "component_statuses": COMPONENT_STATUSES,
        "status_version": selectors.status_version(),
    }


def _incident_page(request, incident: Incident, *, form=None):
    """For `_written`: the incident page as it stands, `form` as it was sent."""
    return lambda: ("health/incident.html", _incident_context(request, incident, form=form))


@require_GET
def incident_detail(request, code: str):
    incident = selectors.incident_visible(code=code, user=request.user)
    return TemplateResponse(request, "health/incident.html", _incident_context(request, incident))


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ").capitalize() if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return "The form is not valid."


def _staff_form(request, *, form, template: str, context: dict, create):
    """GET shows the form to staff; POST parses it and creates through `create(cleaned_data)`. Who may, and what is
    wrong with the input, the services say."""
    context = {"form": form, **context}
    services.require_status_staff(request.user)  # a refusal here is answered by RefusalMiddleware
    if request.method != "POST":
        return TemplateResponse(request, template, context)

    def submit():
        if not form.is_valid():
            raise Refusal(_first_error(form))
        return create(form.cleaned_data)

    return _written(request, submit, then=lambda incident: reverse("health:incident", args=[incident.code]),
                    page=lambda: (template, context))


def incident_new(request):
    form = IncidentForm(request.POST if request.method == "POST" else None)
    return _staff_form(
        request, form=form, template="health/incident_form.html",
        context={"impacts": form.fields["impact"].choices, "statuses": IncidentStatus.choices,
                 "component_statuses": COMPONENT_STATUSES},
        create=lambda data: services.incident_create(
            user=request.user, name=data["name"], impact=data["impact"], status=data["status"], body=data["body"],
            component_codes=data["components"], component_statuses=component_statuses_from(request.POST)),
    )


def maintenance_new(request):
    form = MaintenanceForm(request.POST if request.method == "POST" else None)
    return _staff_form(
        request, form=form, template="health/maintenance_form.html", context={},
        create=lambda data: services.maintenance_schedule(
            user=request.user, name=data["name"], body=data["body"], component_codes=data["components"],
            scheduled_for=data["scheduled_for"], scheduled_until=data["scheduled_until"]),
    )


def _incident_url(incident: Incident) -> str:
    return reverse("health:incident", args=[incident.code])


@require_POST
def incident_update(request, code: str):
    incident = selectors.incident_visible(code=code, user=request.user)
    form = UpdateForm(request.POST)
    form.is_valid()
    return _written(
        request,
        lambda: services.incident_update_post(user=request.user, incident=incident,
                                              status=form.cleaned_data.get("status", ""),
                                              body=form.cleaned_data.get("body", ""),
                                              component_statuses=component_statuses_from(request.POST)),
        then=lambda update: _incident_url(incident), page=_incident_page(request, incident, form=form),
    )


@require_POST
def incident_confirm(request, code: str):
    incident = selectors.incident_visible(code=code, user=request.user)
    return _written(request, lambda: services.incident_confirm(user=request.user, incident=incident),
                    then=_incident_url, page=_incident_page(request, incident))


@require_POST
def incident_dismiss(request, code: str):
    incident = selectors.incident_visible(code=code, user=request.user)
    return _written(request, lambda: services.incident_dismiss(user=request.user, incident=incident),
                    then=lambda _: reverse("health:index"), page=_incident_page(request, incident))


@require_POST
def incident_follow(request, code: str):
    incident = selectors.incident_visible(code=code, user=request.user)
    follow = request.POST.get("follow", "1") != "0"
    return _written(request, lambda: services.incident_follow(user=request.user, incident=incident, follow=follow),
                    then=lambda _: _incident_url(incident), page=_incident_page(request, incident))


@require_POST
def follow_all(request):
    follow = request.POST.get("follow", "1") != "0"
    return _written(request, lambda: services.status_follow(user=request.user, follow=follow),
                    then=lambda _: reverse("health:index"),
                    page=lambda: ("health/index.html", _index_context(request)))


@require_POST
def subscribe(request):
    """The status page's form: the same double opt-in as the API."""
    slugs = [] if request.POST.get("scope", "all") == "all" else request.POST.getlist("components")
    email = request.POST.get("email", "")

    def write():
        subscriptions.status_subscribe(email=email, component_slugs=slugs, ip=client_ip(request))
        return email

    def page():
        context = _index_context(request)
        context["subscribe_email"] = email[:254]
        return "health/index.html", context

    return _written(request, write, then=lambda _: reverse("health:subscribed"), page=page)


@require_GET
def subscribed(request):
    return TemplateResponse(request, "health/subscription.html", {"sent": True})


@require_http_methods(["GET", "POST"])
def subscription_confirm(request, token: str):
    """The link in the confirmation mail: GET shows a button (a GET never writes), POST confirms."""
    template = "health/subscription.html"
    try:
        if request.method == "GET":
            confirm_read(token)
            return TemplateResponse(request, template, {"token": token})
        subscriber = subscriptions.status_subscription_confirm(token=token)
    except Refusal as refusal:
        return refusal_response(request, refusal, template=template, context={"title": "Status e-mail"})
    components = [] if subscriber.all_components else list(subscriber.components.all())
    return TemplateResponse(request, template, {"confirmed": subscriber, "components": components})


def _webhooks_context(request, *, form: dict | None = None) -> dict:
    shown = request.GET.get("webhook", "")
    hooks = selectors.webhook_list()
    focus = next((hook for hook in hooks if str(hook.pk) == shown), None)
    return {
        "webhooks": hooks, "topics": TOPICS, "form": form or {"topics": ["status"]}, "focus": focus,
        "deliveries": selectors.webhook_deliveries(webhook=focus), "max_attempts": MAX_ATTEMPTS,
        "signature_header": SIGNATURE_HEADER,
    }


def _webhook_fields(request) -> dict:
    return {"url": request.POST.get("url", ""), "description": request.POST.get("description", ""),
            "topics": request.POST.getlist("topics"), "active": request.POST.get("active") == "on"}


def webhooks(request):
    """Admins' webhook page: the webhooks, a form to add one, the delivery log. POST adds a webhook."""
    webhook_services.require_webhook_admin(request.user)  # a refusal here is answered by RefusalMiddleware
    page = reverse("health:webhooks")
    if request.method != "POST":
        return TemplateResponse(request, "health/webhooks.html", _webhooks_context(request))
    fields = _webhook_fields(request)

    def added(hook):
        messages.success(request, f"Added. Events go to {hook.url}; send it a test event to check.")
        return page

    return _written(request, lambda: webhook_services.webhook_save(by=request.user, **fields), then=added,
                    page=lambda: ("health/webhooks.html", _webhooks_context(request, form=fields)))


@require_POST
def webhook_change(request, pk: int):
    hook = get_object_or_404(Webhook, pk=pk)
    fields = _webhook_fields(request)
    if request.POST.get("switch") in {"on", "off"}:  # the on/off button sends only that
        fields = {"url": hook.url, "description": hook.description, "topics": hook.topics,
                  "active": request.POST["switch"] == "on"}
    return _written(request, lambda: webhook_services.webhook_save(by=request.user, webhook=hook, **fields),
                    then=lambda _: reverse("health:webhooks"),
                    page=lambda: ("health/webhooks.html", _webhooks_context(request)))


@require_POST
def webhook_test(request, pk: int):
    hook = get_object_or_404(Webhook, pk=pk)

    def sent(delivery):
        messages.success(request, f"A test event is on its way to {hook.url}: its delivery shows below in a few "
                                  "seconds (reload the page).")
        return reverse("health:webhooks") + f"?webhook={hook.pk}"

    return _written(request, lambda: webhook_services.webhook_test(by=request.user, webhook=hook), then=sent,
                    page=lambda: ("health/webhooks.html", _webhooks_context(request)))


@require_POST
def webhook_delete(request, pk: int):
    hook = get_object_or_404(Webhook, pk=pk)
    return _written(request, lambda: webhook_services.webhook_delete(by=request.user, webhook=hook),
                    then=lambda _: reverse("health:webhooks"),
                    page=lambda: ("health/webhooks.html", _webhooks_context(request)))
