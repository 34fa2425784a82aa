from email import message_from_bytes, policy
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.errors import Refusal, refusal_response
from portal.health.models import Component
from portal.health.services.subscriptions import account_status_subscription_set

from . import selectors, services
from .models import Cadence, CaughtMail, Kind, Notification
from .unsubscribe import unsubscribe_apply, unsubscribe_describe


@login_required
def index(request):
    return TemplateResponse(
        request,
        "notifications/index.html",
        {"notes": selectors.notification_list(user=request.user)[:100]},
    )


@login_required
def open_notification(request, pk: int):
    note = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(user=request.user, notification_ids=[note.pk])
    safe = url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()})
    return redirect(note.url if safe else "notifications:index")


@login_required
@require_POST
def read_all(request):
    services.notification_mark_read(user=request.user)
    return redirect("notifications:index")


@login_required
@require_POST
def preferences(request):
    """The account page's channels form: `in_app_<kind>` checkboxes and `email_<kind>` cadences."""
    choices = {
        row.kind: (f"in_app_{row.kind}" in request.POST, request.POST.get(f"email_{row.kind}", row.email))
        for row in selectors.notification_preferences(user=request.user)
    }
    services.notification_preferences_set(user=request.user, choices=choices)
    # Incident mail goes through the status page's subscriptions, for the components ticked (none ticked: all).
    ids = [value for value in request.POST.getlist("components") if value.isascii() and value.isdigit()][:100]
    primary = selectors.mail_addresses(user_ids=[request.user.pk]).get(request.user.pk)
    wants = choices.get(Kind.INCIDENTS, (True, Cadence.OFF))[1] in (Cadence.NOW, Cadence.DAILY, Cadence.WEEKLY)
    account_status_subscription_set(user=request.user, email=primary if wants else None,
                                    components=list(Component.objects.filter(pk__in=ids)) if wants else None)
    messages.success(request, "Your notification settings are saved.")
    return redirect("accounts:index")


# A mail client posts `List-Unsubscribe=One-Click` without cookies or a CSRF token (RFC 8058): the signed link
# is the proof. A GET only shows what the link would stop, with a button.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    template = "notifications/unsubscribe.html"
    try:
        if request.method == "GET":
            return TemplateResponse(request, template, {"what": unsubscribe_describe(token), "token": token})
        done = unsubscribe_apply(token)
    except Refusal as refusal:
        return refusal_response(request, refusal, template=template, context={"title": "Unsubscribe"})
    return TemplateResponse(request, template, {"done": done})


def _debug_only():
    if not settings.DEBUG:
        raise Http404("The development mailbox exists only with DEBUG on.")


@require_GET
def dev_mailbox(request):
    """DEBUG only: the mail the development backend caught (EMAIL_URL unset), newest first."""
    _debug_only()
    return TemplateResponse(request, "notifications/dev_mailbox.html", {"mails": CaughtMail.objects.all()[:200]})


@require_GET
def dev_mail(request, pk: int):
    _debug_only()
    caught = get_object_or_404(CaughtMail, pk=pk)
    return TemplateResponse(request, "notifications/dev_mail.html", {"mail": caught, "parts": _parts(caught)})


@require_GET
def dev_mail_html(request, pk: int):
    """The HTML part alone, as the recipient's mail client would show it; no scripts run (CSP sandbox)."""
    _debug_only()
    caught = get_object_or_404(CaughtMail, pk=pk)
    html = next((body for mimetype, body in _parts(caught) if mimetype == "text/html"), None)
    if html is None:
        return HttpResponse("This mail has no HTML part.", status=HTTPStatus.NOT_FOUND, content_type="text/plain")
    response = HttpResponse(html)
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response


def _parts(caught: CaughtMail) -> list[tuple[str, str]]:
    # Parsed as bytes: a str with 8-bit parts would come back with \u escapes (the email package's raw-unicode-escape).
    message = message_from_bytes(caught.message.encode(), policy=policy.default)
    return [(part.get_content_type(), part.get_content()) for part in message.walk()
            if part.get_content_maintype() == "text"]
