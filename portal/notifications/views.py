from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import selectors, services
from .models import Notification


@login_required
def index(request):
    return TemplateResponse(
        request,
        "notifications/index.html",
        {
            "notes": selectors.notification_list(user=request.user)[:100],
            "preferences": selectors.notification_preferences(user=request.user),
        },
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
    services.notification_preferences_set(user=request.user, enabled_verbs=request.POST.getlist("verbs"))
    return redirect("notifications:index")
