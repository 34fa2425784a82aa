"""Proposal pages: list, proposal, draft form with preview, and the author/admin actions. Thin: parse, call, answer.

A GET never writes. A Refusal from a service re-renders the form with its sentence (refusal_response) or, for the
page actions, comes back as a message on the proposal page; any other Refusal is answered by RefusalMiddleware.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from governance import impact as impact_view
from governance import selectors, services
from governance.chain import ChainUnavailable
from governance.forms import ProposalForm
from governance.live import tally_context, tally_fragments
from governance.tiers import standings_prefetch
from governance.models import Category, Proposal, ProposalState
from portal.cache import cached_version, signed_out_page, signed_out_reader, versioned_key
from portal.errors import Refusal, refusal_response
from portal.discussion.rendering import thread_preview_render
from portal.markdown import RENDERER_VERSION, render_markdown
from portal.parsing import parse_page


def index(request):
    if request.GET.get("fragment") == "home":
        rows = [{"proposal": p, "results": selectors.proposal_results(proposal=p)} for p in selectors.active_proposals()]
        return TemplateResponse(request, "governance/_home_list.html", {"rows": rows})
    state = request.GET.get("state", "")
    category = request.GET.get("category", "")
    q = request.GET.get("q", "").strip()
    known_state = state if state in ProposalState.values else ""
    known_category = category if category in Category.values else ""
    qs = selectors.proposal_list(state=known_state or None, category=known_category or None, search=q or None)
    number = parse_page(request.GET.get("page"))  # not a positive number: the 400 sentence (RefusalMiddleware)

    def results_html() -> str:
        paginator = Paginator(qs, selectors.PAGE_SIZE)
        page = paginator.page(number) if number <= paginator.num_pages else None  # past the end: an empty list
        rows = [{"proposal": p, "results": selectors.proposal_results(proposal=p)} for p in page.object_list] if page else []
        # No request: the list is the same for every reader, so nothing of one reader's can be in it.
        return render_to_string("governance/index.html#results", {
            "page": page, "past_end": page is None and number > 1, "rows": rows, "state": state, "category": category,
            "q": q,
        })

    # The first pages of each state and category are kept; a search or a deep page is rendered for its reader
    # alone (one entry per made-up query would let anyone fill the cache).
    kept = not (q or number > LIST_CACHED_PAGES or (state, category) != (known_state, known_category))
    key = _list_key(state=state, category=category, number=number) if kept else ""

    def results() -> str:
        return cached_version(key, results_html, timeout=LIST_SECONDS) if kept else results_html()

    def context() -> dict:
        return {"results_html": mark_safe(results()), "state": state, "category": category, "q": q,  # noqa: S308
                "states": ProposalState.choices, "categories": Category.choices}

    if request.htmx:
        return HttpResponse(results())
    if kept and signed_out_reader(request):  # the whole page, layout included, kept too: filled with their token
        return signed_out_page(request, key, "governance/index.html", lambda holes: context(), timeout=LIST_SECONDS)
    return TemplateResponse(request, "governance/index.html", context())


# The list says "closes in 3 days": a rendering is kept for the minute it was made in (under the version of
# everything else), so such words are never more than a minute old.
LIST_SECONDS = 60
LIST_CACHED_PAGES = 5


def _list_key(*, state: str, category: str, number: int) -> str:
    return versioned_key("governance:list", selectors.proposals_version(), state, category, number,
                         minute_seconds=LIST_SECONDS)


# The proposal page's parts every reader sees the same (the head, the body and its risk card, the results, the
# voters, the details, the timeline and the voting card as a signed-out reader sees it), rendered without a
# request, so nothing of one reader's can be in them; the discussion card with them (its times put in words
# per request).
PUBLIC_PARTS = ("head", "body", "tally", "voters", "facts", "vote_signed_out")
# Under the version of what they show, a rendering is kept for the minute it was made in: the voters' tier badges
# (cached for a minute by governance.tiers) and the author's display name are not in the version.
PAGE_SECONDS = 60


def _public_parts(number: int) -> dict:
    """The public parts rendered, the state and outcome the reader's own parts are chosen by, and the proposal
    they read: the row the parts were built from, without its author, thread and tally (only the parts show
    those; no user's row is kept in the shared cache)."""
    proposal = selectors.proposal_get(number=number)
    context = tally_context(proposal=proposal)
    context["timeline"] = timeline = selectors.proposal_timeline(proposal=proposal)
    standings_prefetch([e["who"] for e in timeline if str(e["who"] or "").startswith("0x")])
    change = selectors.risk_change_get(proposal=proposal)
    context["risk_change"] = change
    context["risk_change_sentence"] = services.risk_change_of(change).sentence() if change else ""
    parts = {f"{name}_html": render_to_string(f"governance/detail.html#{name}", context) for name in PUBLIC_PARTS}
    discussion = thread_preview_render(thread=proposal.thread)
    for cached in (Proposal.author.field, Proposal.thread.field, Proposal.tally.related):
        if cached.is_cached(proposal):
            cached.delete_cached_value(proposal)
    return {**parts, "discussion": discussion, "proposal": proposal, "state": context["results"].state,
            "outcome": context["results"].outcome}


def _page_key(number: int, now) -> str:
    """The public parts' cache key: the version of everything they show (`proposal_page_version`, one query,
    read before the parts are built, so a version never holds an older rendering), the renderer of the
    comments, the minute and the prefix."""
    version = selectors.proposal_page_version(number=number, now=now)
    return versioned_key(f"governance:page:{number}", version, RENDERER_VERSION, get_script_prefix(),
                         minute_seconds=PAGE_SECONDS)


def _parts(key: str, number: int) -> dict:
    # Kept in the process too (no round trip to the cache, nothing to unpickle).
    return cached_version(key, lambda: _public_parts(number), timeout=PAGE_SECONDS, local=True)


def proposal_context(*, number: int, request, key: str | None = None, discussion_html: str | None = None) -> dict:
    """Everything LIP-`number`'s page shows: the public parts and the proposal as they read it (cached,
    `_page_key`; NotFound when there is none) plus what is the reader's own (their vote, their weight, the
    actions they may take), read for them; a fixed number of queries however many votes, one signed out.
    `key` and `discussion_html` (a hole of the signed-out shell) when the caller has them already."""
    key = key or _page_key(number, timezone.now())
    parts = _parts(key, number)
    proposal = copy.copy(parts["proposal"])  # what this request caches on it (its author, say) stays its own
    context = {name: mark_safe(parts[name]) for name in (f"{n}_html" for n in PUBLIC_PARTS)}  # noqa: S308 — ours
    context["discussion_html"] = parts["discussion"].html() if discussion_html is None else discussion_html
    user = request.user
    addresses = user.wallet_addresses if user.is_authenticated else []
    my_vote = selectors.vote_of(proposal=proposal, addresses=addresses)
    if my_vote is not None:
        my_vote.choice_words = selectors.vote_words(proposal=proposal, vote=my_vote)
    lines = _weight_lines(proposal, user) if parts["state"] == ProposalState.ACTIVE else None
    context.update(
        {
            "proposal": proposal,
            "state": parts["state"],
            "my_vote": my_vote,
            "my_weight": _total(lines),
            "my_weight_lines": lines,
            "actions": services.proposal_actions(proposal=proposal, user=user, outcome=parts["outcome"]),
            "risk_change": selectors.risk_change_get(proposal=proposal),  # the head's scripts for its card
        }
    )
    return context


def _weight_lines(proposal, user):
    """The signed-in wallet's weight at the snapshot, per strategy (fixed, so cached); None when unknown."""
    address = getattr(user, "primary_address", None) if user.is_authenticated else None
    if not address or proposal.snapshot_block is None:
        return None
    key = f"governance:weight-lines:{proposal.pk}:{address}"
    lines = cache.get(key)
    if lines is None:
        try:
            lines = selectors.snapshot_weight_lines(proposal=proposal, address=address)
        except (ChainUnavailable, ValueError):  # the weight line is left out; the page still serves
            return None
        cache.set(key, lines, 24 * 3600)
    return lines


def _total(lines):
    if lines is None or any(line.weight is None for line in lines):
        return None
    return sum((line.weight for line in lines), Decimal(0))


def detail(request, number: int):
    if request.GET.get("fragment") == "impact":  # loaded after the page: it reads the chain at two blocks
        proposal = selectors.proposal_get(number=number)
        context = {"proposal": proposal, "impact": impact_view.proposal_impact(proposal=proposal)}
        return TemplateResponse(request, "governance/_impact.html", context)
    if request.htmx and request.GET.get("fragment") == "tally":
        # A socket's catch-up after a gap: what a live update carries (the tally and the voters, out of band).
        return HttpResponse(tally_fragments(number=selectors.proposal_get(number=number).number))
    if not request.GET and signed_out_reader(request):
        return _signed_out_page(request, number)
    context = proposal_context(number=number, request=request)
    return TemplateResponse(request, "governance/detail.html", context)


def _signed_out_page(request, number: int) -> HttpResponse:
    """The whole page (layout included) as every signed-out reader without a message sees it, kept under the parts'
    key (their version and minute) as /status/'s and the list's are, with two holes filled per request: the
    reader's CSRF token and the discussion card, whose times are put in words now ("40 seconds ago")."""
    key = _page_key(number, timezone.now())
    return signed_out_page(
        request, key, "governance/detail.html", timeout=PAGE_SECONDS,
        context=lambda holes: proposal_context(number=number, request=request, key=key,
                                               discussion_html=holes["discussion"]),
        fill={"discussion": lambda: _parts(key, number)["discussion"].html()},
    )


def _form_context(form, proposal=None) -> dict:
    """The form and, when the market can be read, its collaterals with today's parameters (for the change fields)."""
    return {"form": form, "proposal": proposal, **impact_view.market_choices()}


def _form_page(request, form, *, proposal=None, status=HTTPStatus.OK):
    return TemplateResponse(request, "governance/form.html", _form_context(form, proposal), status=status)


def _save(request, form, *, proposal=None):
    try:
        if proposal is None:
            saved = services.proposal_create(author=request.user, **form.service_fields())
        else:
            saved = services.proposal_update(proposal=proposal, editor=request.user, **form.service_fields())
    except Refusal as refusal:  # the form again, with the sentence above it and the fields kept
        form.add_error(None, refusal.message)
        return refusal_response(request, refusal, template="governance/form.html", context=_form_context(form, proposal))
    messages.success(request, f"{saved.label} saved as a draft. Open it for voting when it is ready.")
    return redirect(saved.get_absolute_url())


@login_required
def create(request):
    if request.method == "POST":
        form = ProposalForm(request.POST)
        if form.is_valid():
            return _save(request, form)
        return _form_page(request, form, status=HTTPStatus.BAD_REQUEST)
    return _form_page(request, ProposalForm(initial=ProposalForm.initial_for_new()))


@login_required
def edit(request, number: int):
    proposal = selectors.proposal_get(number=number)
    if request.method == "POST":
        form = ProposalForm(request.POST)
        if form.is_valid():
            return _save(request, form, proposal=proposal)
        return _form_page(request, form, proposal=proposal, status=HTTPStatus.BAD_REQUEST)
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
    except Refusal as refusal:  # the page again, the sentence as its message; nothing was written
        messages.error(request, refusal.message)
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
