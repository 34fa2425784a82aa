"""Board, post, roadmap and queue pages. Views parse, call one service or selector, answer; refusals come back
with their status and sentence, the page re-rendered around them."""

import re
from http import HTTPStatus

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.roles import is_moderator
from portal.cache import cached_version, signed_out_page, signed_out_reader
from portal.errors import NotFound, Refusal, refusal_response
from portal.parsing import page_rows, pager, parse_id, parse_page

from . import selectors, services, support
from .board import BOARD_SECONDS, board_key
from .models import BODY_MAX_LENGTH, TITLE_MAX_LENGTH, Kind, Post, Status, Tag


BOARD_PAGE_SIZE = 20
_BOARD_PARAMETERS = {"sort", "kind", "status", "tag", "mine", "voted", "page"}


def _flag(request, name: str) -> bool:
    return request.GET.get(name) in ("1", "on", "true")


def index(request):
    sort = request.GET.get("sort") if request.GET.get("sort") in selectors.SORTS else "trending"
    filters = {
        "kind": request.GET.get("kind", ""),
        "status": request.GET.get("status", ""),
        "tag": tag if re.fullmatch(r"[-a-zA-Z0-9_]{1,40}", tag := request.GET.get("tag", "")) else "",
        "mine": _flag(request, "mine"),
        "voted": _flag(request, "voted"),
    }
    page = parse_page(request.GET.get("page"))

    def listing(user) -> dict:
        posts, has_next = page_rows(selectors.post_list(user=user, sort=sort, **filters), page=page,
                                    per_page=BOARD_PAGE_SIZE)
        return {"posts": posts, **pager(page=page, has_next=has_next), "sort": sort, "filters": filters,
                "tags": selectors.tag_list()}

    context = {"sorts": selectors.SORTS, "kinds": Kind.choices, "statuses": Status.choices,
               "staff": is_moderator(request.user)}
    if request.user.is_authenticated:  # their votes and their filters: rendered for them
        context.update(listing(request.user))
        template = "feedback/index.html#results" if request.htmx else "feedback/index.html"
        return TemplateResponse(request, template, context)

    def signed_out() -> dict:
        parts = listing(None)
        # Not rendered with the request (no context processors: no user, no CSRF token): a signed-out reader's
        # list, the same for all of them; the pager's links read its query, which is in the key.
        return {"results_html": render_to_string("feedback/index.html#results", {**parts, "request": request}),
                "tags": [{"slug": tag.slug, "name": tag.name} for tag in parts["tags"]]}

    # Only the board's own parameters, once each, are cached: any other query string (made up, or to fill the
    # cache with one entry per request) is rendered for its reader alone.
    known = set(request.GET) <= _BOARD_PARAMETERS and all(len(request.GET.getlist(name)) == 1 for name in request.GET)
    key = board_key(query=request.GET.urlencode()) if known else ""
    parts = cached_version(key, signed_out, timeout=BOARD_SECONDS, local=True) if known else signed_out()
    if request.htmx:
        return HttpResponse(parts["results_html"])
    context.update(sort=sort, filters=filters, tags=parts["tags"],
                   results_html=mark_safe(parts["results_html"]))  # noqa: S308 — our template's output
    if known and signed_out_reader(request):  # the whole page, layout included, kept too: filled with their token
        return signed_out_page(request, key, "feedback/index.html", lambda holes: context, timeout=BOARD_SECONDS)
    return TemplateResponse(request, "feedback/index.html", context)


def _form_context(request, **extra) -> dict:
    return {
        "kinds": Kind.choices,
        "tags": Tag.objects.all(),
        "title_max": TITLE_MAX_LENGTH,
        "body_max": BODY_MAX_LENGTH,
        "values": {"kind": request.GET.get("kind", Kind.IDEA)},
        **extra,
    }


def new(request):
    if request.method == "POST":
        values = {
            "kind": request.POST.get("kind", ""),
            "title": request.POST.get("title", ""),
            "body": request.POST.get("body", ""),
            "tags": request.POST.getlist("tags"),
        }
        try:
            post = services.post_create(
                author=request.user, kind=values["kind"], title=values["title"], body=values["body"],
                tag_slugs=values["tags"],
            )
        except Refusal as refused:
            return refusal_response(request, refused, template="feedback/new.html",
                                    context=_form_context(request, values=values))
        messages.success(request, "Thanks! Your post is live.")
        return redirect(post)
    return TemplateResponse(request, "feedback/new.html", _form_context(request))


def _id_or_none(raw: str | None) -> int | None:
    try:
        return parse_id(raw) if raw else None
    except Refusal:
        return None


@require_GET
def similar(request):
    exclude = request.GET.get("exclude")
    posts = selectors.post_similar(
        text=request.GET.get("title", "")[:TITLE_MAX_LENGTH],
        exclude_id=_id_or_none(exclude),
    )
    return TemplateResponse(request, "feedback/_similar.html", {"similar": posts})


def _post_context(request, post: Post, **extra) -> dict:
    staff = is_moderator(request.user)
    return {
        "post": post,
        "staff": staff,
        "is_author": request.user.is_authenticated and request.user.pk == post.author_id,
        "history": post.status_changes.select_related("by"),
        "duplicates": post.duplicates.all(),
        "proposal": (proposal := selectors.post_proposal(post)),
        "proposal_results": selectors.post_proposal_results(proposal),
        "statuses": [s for s in Status.choices if s[0] != Status.DUPLICATE],
        **extra,
    }


def detail(request, pk: int):
    try:
        post = selectors.post_get(pk=pk, user=request.user)
    except Post.DoesNotExist:
        raise Http404("There is no feedback post with that number.") from None
    return TemplateResponse(request, "feedback/post.html", _post_context(request, post))


def _act(request, pk: int, action, *, success: str):
    """Run one service on a post; on refusal re-render the post with the sentence and the service's status."""
    post = get_object_or_404(Post, pk=pk)
    try:
        action(post)
    except Refusal as refused:
        post = selectors.post_get(pk=pk, user=request.user)
        return refusal_response(request, refused, template="feedback/post.html", context=_post_context(request, post))
    messages.success(request, success)
    return HttpResponseRedirect(post.get_absolute_url())


@require_POST
def vote(request, pk: int):
    post = get_object_or_404(Post, pk=pk)
    try:
        voted, count = services.vote_toggle(post=post, user=request.user)
    except Refusal as refused:
        post = selectors.post_get(pk=pk, user=request.user)
        if request.htmx:
            context = {"post": post, "voted": getattr(post, "i_voted", False), "count": post.vote_count}
            return refusal_response(request, refused, template="feedback/_vote.html", context=context)
        return refusal_response(request, refused, template="feedback/post.html", context=_post_context(request, post))
    if request.htmx:
        return TemplateResponse(request, "feedback/_vote.html", {"post": post, "voted": voted, "count": count})
    return HttpResponseRedirect(request.POST.get("next") if request.POST.get("next", "").startswith("/feedback/") else post.get_absolute_url())


@require_POST
def status(request, pk: int):
    return _act(
        request, pk,
        lambda post: services.post_status_set(
            post=post, by=request.user, status=request.POST.get("status", ""), note=request.POST.get("note", "")
        ),
        success="Status changed; the author and voters were notified.",
    )


@require_POST
def merge(request, pk: int):
    def run(post):
        raw = request.POST.get("target", "").strip().lstrip("#")
        if not (raw.isascii() and raw.isdigit()):
            raise Refusal("Give the number of the original post to merge into, e.g. 12.")
        target_id = _id_or_none(raw)  # None: more digits than any post number has
        target = Post.objects.filter(pk=target_id).first() if target_id else None
        if target is None:
            raise NotFound(f"There is no post #{raw} to merge into.")
        services.post_merge(source=post, target=target, by=request.user, note=request.POST.get("note", ""))

    return _act(request, pk, run, success="Merged: the votes moved to the original post.")


def _post_action(service, *, success: str):
    """A POST view that runs `service(post=…, by=the signed-in user)` through _act."""

    @require_POST
    def view(request, pk: int):
        return _act(request, pk, lambda post: service(post=post, by=request.user), success=success)

    return view


promote = _post_action(services.post_promote, success="A draft proposal was created from this idea.")
claim = _post_action(support.question_claim, success="Claimed.")
solve = _post_action(support.question_solve, success="Marked solved.")
accept = _post_action(support.question_accept, success="Thanks! The question is solved.")
reopen = _post_action(support.question_reopen, success="Reopened: the support team will have another look.")


@require_POST
def answer(request, pk: int):
    return _act(
        request, pk,
        lambda post: support.question_answer(post=post, by=request.user, body=request.POST.get("answer", "")),
        success="Answer posted; the asker was notified.",
    )


def roadmap(request):
    return TemplateResponse(request, "feedback/roadmap.html", {"columns": selectors.roadmap_columns()})


def queue(request):
    if not is_moderator(request.user):
        return TemplateResponse(
            request, "feedback/queue.html", {"denied": "The support queue is for staff only."},
            status=HTTPStatus.FORBIDDEN if request.user.is_authenticated else HTTPStatus.UNAUTHORIZED,
        )
    items = selectors.queue_items()
    return TemplateResponse(
        request, "feedback/queue.html", {"items": items, "figures": selectors.queue_figures(items=items)}
    )
