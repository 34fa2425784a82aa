"""Proposal pages: list, proposal, draft form with preview, and the author/admin actions. Thin: parse, call, answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from governance import selectors, services
from governance.chain import ChainUnavailable
from governance.forms import ProposalForm
from governance.models import Category, ProposalState
from governance.voting import InvalidChoice, voting_method
from portal.markdown import render_markdown
from portal.ratelimit import RateLimited

VOTERS_SHOWN = 50


def index(request):
    if request.GET.get("fragment") == "home":
        rows = [{"proposal": p, "results": selectors.proposal_results(proposal=p)} for p in selectors.active_proposals()]
        return TemplateResponse(request, "governance/_home_list.html", {"rows": rows})
    state = request.GET.get("state", "")
    category = request.GET.get("category", "")
    q = request.GET.get("q", "").strip()
    qs = selectors.proposal_list(
        state=state if state in ProposalState.values else None,
        category=category if category in Category.values else None,
        search=q or None,
    )
    page = Paginator(qs, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"proposal": p, "results": selectors.proposal_results(proposal=p)} for p in page.object_list]
    context = {
        "page": page, "rows": rows, "state": state, "category": category, "q": q,
        "states": ProposalState.choices, "categories": Category.choices,
    }
    template = "governance/index.html#results" if request.htmx else "governance/index.html"
    return TemplateResponse(request, template, context)


def proposal_context(*, proposal, request) -> dict:
    """Everything the proposal page and its live fragments show; a fixed number of queries however many votes."""
    results = selectors.proposal_results(proposal=proposal)
    voters = list(selectors.vote_list(proposal=proposal)[:VOTERS_SHOWN])
    for vote in voters:
        vote.choice_words = _choice_words(proposal, vote)
    context = {
        "proposal": proposal, "results": results, "voters": voters, "voters_more": max(0, results.voters - len(voters)),
        "oob": False,
    }
    if request is not None:
        user = request.user
        addresses = user.wallet_addresses if user.is_authenticated else []
        my_vote = selectors.vote_of(proposal=proposal, addresses=addresses)
        if my_vote is not None:
            my_vote.choice_words = _choice_words(proposal, my_vote)
        context.update(
            {
                "my_vote": my_vote,
                "my_weight": _snapshot_weight(proposal, user) if proposal.state == "active" else None,
                "timeline": selectors.proposal_timeline(proposal=proposal),
                "actions": services.proposal_actions(proposal=proposal, user=user, outcome=results.outcome),
            }
        )
    return context


def _choice_words(proposal, vote) -> str:
    """The vote's choice in words ("For", "(1st) B, (2nd) A"); the raw text if it no longer parses."""
    method = voting_method(proposal.voting_type)
    try:
        ballot = method.parse(vote.choice, len(proposal.choice_names))
    except InvalidChoice:
        return vote.choice
    return method.describe(proposal.choice_names, ballot)


def _snapshot_weight(proposal, user):
    """The signed-in wallet's weight at the snapshot (fixed, so cached); None when unknown."""
    address = getattr(user, "primary_address", None) if user.is_authenticated else None
    if not address or proposal.snapshot_block is None:
        return None
    key = f"governance:weight:{proposal.pk}:{address}"
    weight = cache.get(key)
    if weight is None:
        try:
            weight = selectors.snapshot_weight(proposal=proposal, address=address)
        except (ChainUnavailable, ValueError):
            return None
        cache.set(key, weight, 24 * 3600)
    return weight


def detail(request, number: int):
    proposal = selectors.proposal_get(number=number)
    if services.proposal_close_if_due(proposal=proposal):
        proposal = selectors.proposal_get(number=number)
    context = proposal_context(proposal=proposal, request=request)
    if request.htmx and request.GET.get("fragment") == "tally":
        return TemplateResponse(request, "governance/detail.html#tally", context)
    return TemplateResponse(request, "governance/detail.html", context)


def _form_page(request, form, *, proposal=None, status=200):
    return TemplateResponse(request, "governance/form.html", {"form": form, "proposal": proposal}, status=status)


def _save(request, form, *, proposal=None):
    try:
        if proposal is None:
            saved = services.proposal_create(author=request.user, **form.service_fields())
        else:
            saved = services.proposal_update(proposal=proposal, editor=request.user, **form.service_fields())
    except services.GovernanceError as exc:
        form.add_error(None, str(exc))
        return _form_page(request, form, proposal=proposal, status=exc.status)
    except (ChainUnavailable, RateLimited) as exc:
        form.add_error(None, str(exc))
        return _form_page(request, form, proposal=proposal, status=503 if isinstance(exc, ChainUnavailable) else 429)
    messages.success(request, f"{saved.label} saved as a draft. Open it for voting when it is ready.")
    return redirect(saved.get_absolute_url())


@login_required
def create(request):
    if request.method == "POST":
        form = ProposalForm(request.POST)
        if form.is_valid():
            return _save(request, form)
        return _form_page(request, form, status=400)
    return _form_page(request, ProposalForm(initial=ProposalForm.initial_for_new()))


@login_required
def edit(request, number: int):
    proposal = selectors.proposal_get(number=number)
    if request.method == "POST":
        form = ProposalForm(request.POST)
        if form.is_valid():
            return _save(request, form, proposal=proposal)
        return _form_page(request, form, proposal=proposal, status=400)
    return _form_page(request, ProposalForm(initial=ProposalForm.initial_for(proposal)), proposal=proposal)


@require_POST
def preview(request):
    """The htmx markdown preview of the draft form."""
    return HttpResponse(render_markdown(request.POST.get("body", "")[:20000]) or "<p class='muted'>Nothing to preview yet.</p>")


def _page_action(request, number: int, act, done: str):
    """Run an author/admin action from the proposal page, then back to the page with the outcome as a message."""
    proposal = selectors.proposal_get(number=number)
    try:
        act(proposal)
    except (services.GovernanceError, ChainUnavailable) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done.format(label=proposal.label))
    return redirect(proposal.get_absolute_url())


@require_POST
@login_required
def activate(request, number: int):
    return _page_action(
        request, number, lambda p: services.proposal_activate(proposal=p, actor=request.user),
        "{label} is open for voting. The snapshot block is fixed.",
    )


@require_POST
@login_required
def cancel(request, number: int):
    reason = request.POST.get("reason", "")
    return _page_action(
        request, number, lambda p: services.proposal_cancel(proposal=p, actor=request.user, reason=reason),
        "{label} was cancelled.",
    )


@require_POST
@login_required
def execute(request, number: int):
    tx_hash = request.POST.get("tx_hash", "")
    return _page_action(
        request, number, lambda p: services.proposal_mark_executed(proposal=p, actor=request.user, tx_hash=tx_hash),
        "{label} is marked executed.",
    )
