"""Profiles and the delegate directory. Thin: parse, call one selector or service, answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from governance.chain import ChainUnavailable
from governance.tiers import standings_prefetch
from portal.errors import Refusal
from portal.parsing import pager, parse_page

from . import selectors, services


@require_GET
def profile(request, address: str):
    checksummed = selectors.address_parse(address)
    if checksummed != address:  # one address for every spelling of it
        return redirect("people:profile", address=checksummed, permanent=True)
    profile = selectors.profile_get(address=checksummed)
    standings_prefetch([profile.address, *(d.delegator for d in profile.delegators)])
    return TemplateResponse(request, "people/profile.html", {"profile": profile})


@require_GET
def directory(request):
    sort = request.GET.get("sort") if request.GET.get("sort") in selectors.SORTS else "power"
    page = parse_page(request.GET.get("page"))
    context = {"sort": sort, "page": page, "sorts": selectors.SORTS}
    try:
        found = selectors.delegate_list(sort=sort, page=page)
    except ChainUnavailable as exc:
        context.update(chain_error=exc.message, rows=[], count=0)
    else:
        standings_prefetch([row.address for row in found.rows])
        context.update(rows=found.rows, count=found.count, closed_window=found.closed_window)
    context.update(pager(page=page, has_next=page * selectors.DIRECTORY_PAGE_SIZE < context["count"]))
    return TemplateResponse(request, "people/delegates.html", context)


@require_GET
def signed_send(request):
    """Anyone may send a holder's signed delegation with their own wallet; the page holds only the form (signed.js)."""
    return TemplateResponse(request, "people/signed_send.html")


@login_required
@require_POST
def statement(request):
    address = request.POST.get("address", "")
    try:
        saved = services.statement_save(user=request.user, address=address, body=request.POST.get("body", ""))
    except Refusal as refusal:
        messages.error(request, refusal.message)
        return redirect("accounts:index")
    messages.success(request, "Your delegate statement is saved." if saved else "Your delegate statement is removed.")
    return redirect("accounts:index")
