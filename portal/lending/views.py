"""The loan page (/lending/): every linked wallet's loan, live, and its alert levels. Thin: parse, call, answer."""

from __future__ import annotations

from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from portal.errors import Refusal, refusal_response

from . import selectors, services
from .models import DEFAULT_CLOSE_AT, DEFAULT_NEAR_AT


def _alert_rows(user) -> list[dict]:
    wallets = selectors.wallets_of(user)
    stored = selectors.position_settings(addresses=wallets)
    return [
        {"address": a, "close_at": stored[a].close_at if a in stored else DEFAULT_CLOSE_AT,
         "near_at": stored[a].near_at if a in stored else DEFAULT_NEAR_AT}
        for a in wallets
    ]


@login_required
def loan(request):
    return TemplateResponse(request, "lending/index.html", {"alert_rows": _alert_rows(request.user)})


@login_required
@require_POST
def alerts_save(request):
    try:
        services.alert_levels_set(user=request.user, address=request.POST.get("address", ""),
                                  close_at=request.POST.get("close_at", ""), near_at=request.POST.get("near_at", ""))
    except Refusal as refusal:
        if refusal.status == HTTPStatus.BAD_REQUEST:
            refusal.status = HTTPStatus.UNPROCESSABLE_ENTITY
        return refusal_response(request, refusal, template="lending/index.html",
                                context={"alert_rows": _alert_rows(request.user)})
    messages.success(request, "Your alert levels are saved.")
    return redirect("lending:loan")
