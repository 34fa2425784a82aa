"""Thin views: parse, call a service or selector, answer. Every page works without JavaScript; htmx and the socket
only make it live."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from governance.tiers import standings_prefetch
from portal.accounts.models import Sanction
from portal.accounts.sanctions import sanction_list_active, user_posting_refusal
from portal.errors import Refusal, SignInRequired, refusal_response
from portal.parsing import pager, parse_id, parse_int, parse_page

from . import moderation, selectors, services
from .models import Category, Comment, Flag, Thread
from .rendering import comment_card, comment_tree_cards, quote_markdown, render_comment_item
from .selectors import Viewer, edit_grace_seconds

# A button's refusal (delete, +1, hide, a queue decision) is the bare sentence: htmx shows it next to the button.
BUTTON_REFUSAL = "discussion/_refusal.html"


def _whole_or_none(raw: str) -> int | None:
    """A form's whole number of seconds or hours; None when blank or not one (ASCII digits only, bounded), so the
    service answers with its own sentence."""
    try:
        return parse_int(raw, minimum=0) if raw.strip() else None
    except Refusal:
        return None


def _refusal(user) -> str | None:
    return user_posting_refusal(user=user) if user.is_authenticated else None


def _index_context(request, category=None, **extra) -> dict:
    viewer = Viewer.of(request.user)
    page = parse_page(request.GET.get("page"))
    threads, has_next = selectors.thread_list(viewer=viewer, category=category, page=page)
    categories = list(selectors.category_list())
    postable = [c for c in categories if not c.staff_only or viewer.moderator]
    return {
        "viewer": viewer,
        "category": category,
        "categories": categories,
        "postable_categories": postable,
        "threads": threads,
        **pager(page=page, has_next=has_next),
        "posting_refusal": _refusal(request.user),
        "queue_count": Flag.objects.filter(outcome=Flag.Outcome.OPEN).count() if viewer.moderator else 0,
        **extra,
    }


@require_GET
def index(request):
    return TemplateResponse(request, "discussion/index.html", _index_context(request))


@require_GET
def category(request, slug):
    return TemplateResponse(request, "discussion/index.html", _index_context(request, get_object_or_404(Category, slug=slug)))


@require_POST
def thread_new(request):
    draft = {k: request.POST.get(k, "") for k in ("title", "category", "body")}
    try:
        if not request.user.is_authenticated:
            raise SignInRequired("Please sign in with your wallet to start a thread.")
        thread = services.thread_create(
            title=draft["title"], category_slug=draft["category"], author=request.user, body=draft["body"]
        )
    except Refusal as refused:
        return refusal_response(request, refused, template="discussion/index.html",
                                context=_index_context(request, draft=draft))
    return redirect(thread)


def _thread_or_404(pk: int, viewer: Viewer) -> Thread:
    thread = get_object_or_404(Thread.objects.select_related("category", "author"), pk=pk)
    if not selectors.thread_visible(thread=thread, viewer=viewer):
        raise Http404("This thread has been hidden by a moderator.")
    return thread


def _thread_context(request, thread: Thread, **extra) -> dict:
    viewer = Viewer.of(request.user)
    replies_of = request.GET.get("replies")
    comment_page = selectors.comment_page(
        thread=thread, page=parse_page(request.GET.get("page")),
        replies_of=parse_id(replies_of, what="The comment whose replies to show") if replies_of else None,
        rpage=parse_page(request.GET.get("rpage")),
    )
    cards = comment_tree_cards(
        comments=comment_page.comments, viewer=viewer, thread=thread, grace_seconds=edit_grace_seconds(),
    )
    standings_prefetch(_card_addresses(thread, cards, request.user))
    reply_to = None
    reply_id = request.GET.get("reply") or request.POST.get("parent")
    if reply_id:
        try:
            reply_id = parse_id(reply_id, what="The comment to reply to")
        except Refusal:  # the thread() view refused a bad ?reply= already; a bad form value has its own sentence
            reply_id = None
        reply_to = Comment.objects.select_related("author").filter(thread=thread, pk=reply_id).first() if reply_id else None
    readable = reply_to is not None and not reply_to.is_deleted and (not reply_to.hidden or viewer.moderator)
    if request.GET.get("quote") and readable and "draft" not in extra:
        extra["draft"] = quote_markdown(reply_to)  # quote-reply without JavaScript: the composer starts with it
    return {
        "thread": thread,
        "viewer": viewer,
        "cards": cards,
        "comment_page": comment_page,
        "cursor": timezone.now().isoformat(),
        "categories": Category.objects.all() if viewer.moderator else [],
        "posting_refusal": _refusal(request.user),
        "reply_to": reply_to,
        **extra,
    }


def _card_addresses(thread: Thread, cards, user) -> list[str | None]:
    """Every wallet the thread page shows, so their tier badges are one batched lookup."""
    addresses = [getattr(user, "primary_address", None), thread.author.primary_address if thread.author else None]
    for card in cards:
        for shown in (card, *card.replies):
            addresses.append(shown.comment.author.primary_address)
            if shown.quote:
                addresses.append(shown.comment.quoted.author.primary_address)
    return addresses


@require_GET
def thread(request, pk):
    thread = _thread_or_404(pk, Viewer.of(request.user))
    if request.GET.get("reply"):
        parse_id(request.GET["reply"], what="The comment to reply to")  # a Refusal: the 400 page with its sentence
    return TemplateResponse(request, "discussion/thread.html", _thread_context(request, thread))


@require_GET
def thread_changes(request, pk):
    """Catch-up after a (re)connect: every comment changed since the client's cursor, as OOB fragments."""
    viewer = Viewer.of(request.user)
    thread = _thread_or_404(pk, viewer)
    first = request.GET.get("first")
    comments, cursor = selectors.comment_changes(
        thread=thread, since=selectors.parse_cursor(request.GET.get("since")),
        first_id=parse_id(first, what="The first comment") if first else None,
    )
    grace = edit_grace_seconds()
    fragments = [
        render_comment_item(card=comment_card(comment=c, viewer=viewer, thread=thread, grace_seconds=grace), append=True)
        for c in comments
    ]
    html = render_to_string("discussion/_changes.html", {"fragments": fragments, "cursor": cursor.isoformat()}, request)
    return HttpResponse(html)


@require_POST
def comment_create(request, pk):
    """The no-JavaScript path (the socket is the other one); both end in services.comment_post."""
    thread = _thread_or_404(pk, Viewer.of(request.user))
    body = request.POST.get("body", "")
    try:
        if not request.user.is_authenticated:
            raise SignInRequired("Please sign in with your wallet to take part in the discussion.")
        parent = services.comment_parent(parent_id=request.POST.get("parent"))
        comment = services.comment_post(thread=thread, author=request.user, body=body, parent=parent)
    except Refusal as refused:
        return refusal_response(request, refused, template="discussion/thread.html",
                                context=_thread_context(request, thread, draft=body))
    return redirect(comment.get_absolute_url())


def _own_comment(request, pk) -> Comment:
    return get_object_or_404(Comment.objects.select_related("thread", "author"), pk=pk)


def comment_edit(request, pk):
    comment = _own_comment(request, pk)
    template = "discussion/comment_edit.html" + ("#form" if request.htmx else "")
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            comment = services.comment_edit(comment=comment, editor=request.user, body=body)
        except Refusal as refused:
            return refusal_response(request, refused, template=template, context={"comment": comment, "body": body})
        if request.htmx:
            return _article(request, comment)
        return redirect(comment.get_absolute_url())
    viewer = Viewer.of(request.user)
    card = comment_card(comment=comment, viewer=viewer, grace_seconds=edit_grace_seconds())
    if not card.can_edit:
        return HttpResponseForbidden("You cannot edit this comment.")
    return TemplateResponse(request, template, {"comment": comment, "body": comment.body})


@require_GET
def comment_fragment(request, pk):
    comment = _own_comment(request, pk)
    viewer = Viewer.of(request.user)
    if not selectors.thread_visible(thread=comment.thread, viewer=viewer):
        raise Http404
    return _article(request, comment)


def _article(request, comment: Comment) -> HttpResponse:
    card = comment_card(comment=comment, viewer=Viewer.of(request.user), grace_seconds=edit_grace_seconds())
    return HttpResponse(render_to_string("discussion/_comment_article.html", {"card": card}, request))


def _comment_action(request, comment: Comment, action: Callable[[], object]) -> HttpResponse:
    """A button on a comment (delete, +1, hide). htmx gets 204: the socket brings the new rendering to every reader,
    this one included; a plain form goes back to the comment."""
    try:
        action()
    except Refusal as refused:
        return refusal_response(request, refused, template=BUTTON_REFUSAL)
    if request.htmx:
        return HttpResponse(status=HTTPStatus.NO_CONTENT)
    return redirect(comment.get_absolute_url())


@require_POST
def comment_delete(request, pk):
    comment = _own_comment(request, pk)
    return _comment_action(request, comment, lambda: services.comment_delete(comment=comment, user=request.user))


@require_POST
def comment_plus(request, pk):
    comment = _own_comment(request, pk)
    return _comment_action(request, comment, lambda: services.reaction_toggle(comment=comment, user=request.user))


def _flag_page(request, *, thread: Thread, comment: Comment | None):
    context = {"thread": thread, "comment": comment, "reasons": Flag.Reason.choices, "reason": "", "text": ""}
    if request.method == "POST":
        context.update(reason=request.POST.get("reason", ""), text=request.POST.get("text", ""))
        try:
            moderation.flag_create(user=request.user, reason=context["reason"], text=context["text"], comment=comment,
                                   thread=None if comment else thread)
        except Refusal as refused:
            return refusal_response(request, refused, template="discussion/flag.html", context=context)
        messages.success(request, "Thank you: the moderators will review it.")
        return redirect(comment.get_absolute_url() if comment else thread.get_absolute_url())
    return TemplateResponse(request, "discussion/flag.html", context)


def comment_flag(request, pk):
    comment = _own_comment(request, pk)
    return _flag_page(request, thread=comment.thread, comment=comment)


def thread_flag(request, pk):
    return _flag_page(request, thread=_thread_or_404(pk, Viewer.of(request.user)), comment=None)


@require_POST
def comment_hide(request, pk):
    comment = _own_comment(request, pk)
    hidden, note = request.POST.get("hidden") == "1", request.POST.get("note", "")
    return _comment_action(
        request, comment, lambda: moderation.comment_hide(comment=comment, moderator=request.user, hidden=hidden, note=note)
    )


@require_GET
def comment_history(request, pk):
    """A comment's earlier versions, for whoever may read the comment itself (as on Discourse): everyone for a
    visible one; for a hidden one its author and the moderators; a deleted one's only the moderators."""
    comment = _own_comment(request, pk)
    viewer = Viewer.of(request.user)
    own = viewer.user_id is not None and viewer.user_id == comment.author_id
    if not selectors.thread_visible(thread=comment.thread, viewer=viewer):
        raise Http404
    if not viewer.moderator and (comment.is_deleted or (comment.hidden and not own)):
        return HttpResponseForbidden("This comment is not shown to readers, so neither is its history.")
    return TemplateResponse(request, "discussion/history.html", {"comment": comment, "revisions": comment.revisions.all()})


@require_POST
def thread_moderate(request, pk):
    thread = get_object_or_404(Thread, pk=pk)
    slow = request.POST.get("slow_mode_seconds", "")
    action = request.POST.get("action", "")
    try:
        thread = moderation.thread_moderate(
            thread=thread, moderator=request.user, action=action,
            note=request.POST.get("note", ""), category_slug=request.POST.get("category"),
            slow_mode_seconds=_whole_or_none(slow),
        )
    except Refusal as refused:
        return refusal_response(request, refused, template=BUTTON_REFUSAL)
    messages.success(request, _moderation_done(action, thread))
    return redirect(thread)


def _moderation_done(action: str, thread: Thread) -> str:
    """The confirmation a moderator reads after a thread action."""
    if action == "slow-mode":
        seconds = thread.slow_mode_seconds
        done = f"Slow mode is on: each member may comment once every {seconds} seconds." if seconds else "Slow mode is off."
    else:
        done = {
            "lock": "Thread locked: no new comments until it is unlocked.",
            "unlock": "Thread unlocked: members can comment again.",
            "pin": "Thread pinned to the top of its category.",
            "unpin": "Thread unpinned.",
            "hide": "Thread hidden from members.",
            "unhide": "Thread visible again.",
            "move": f"Thread moved to {thread.category.name}.",
        }.get(action, "Done.")
    return f"{done} It is in the moderation log."


def _require_moderator_page(request):
    if not Viewer.of(request.user).moderator:
        return TemplateResponse(request, "discussion/forbidden.html", {}, status=HTTPStatus.FORBIDDEN)
    return None


@require_GET
def review(request):
    if (refused := _require_moderator_page(request)) is not None:
        return refused
    context = {"items": selectors.review_queue(), "active_sanctions": sanction_list_active()}
    return TemplateResponse(request, "discussion/review.html", context)


@require_POST
def review_decide(request, kind, pk):
    target = {"comment": Comment, "thread": Thread}.get(kind)
    if target is None:
        raise Http404
    item = get_object_or_404(target, pk=pk)
    hours = request.POST.get("silence_hours", "")
    try:
        moderation.flags_decide(
            moderator=request.user, decision=request.POST.get("decision", ""), note=request.POST.get("note", ""),
            silence_hours=_whole_or_none(hours), **{kind: item},
        )
    except Refusal as refused:
        return refusal_response(request, refused, template=BUTTON_REFUSAL)
    messages.success(request, "Done. The decision is in the moderation log.")
    return redirect("discussion:review")


@require_POST
def sanction(request):
    if (refused := _require_moderator_page(request)) is not None:
        return refused
    address = request.POST.get("address", "").strip()
    member = get_user_model().objects.filter(username__iexact=address).first() if address else None
    if member is None:
        messages.error(request, "No member has signed in with that wallet.")
        return redirect("discussion:review")
    try:
        moderation.sanction_impose(moderator=request.user, user=member, kind=request.POST.get("kind", ""),
                                   hours=request.POST.get("hours"), reason=request.POST.get("reason", ""))
    except Refusal as refused:  # the queue page shows the sentence above the form (post/redirect/get)
        messages.error(request, refused.message)
        return redirect("discussion:review")
    messages.success(request, "Sanction applied; it is in the moderation log.")
    return redirect("discussion:review")


@require_POST
def sanction_lift(request, pk):
    item = get_object_or_404(Sanction, pk=pk)
    try:
        moderation.sanction_lift(moderator=request.user, sanction=item, note=request.POST.get("note", ""))
    except Refusal as refused:
        return refusal_response(request, refused, template=BUTTON_REFUSAL)
    messages.success(request, "Sanction lifted; it is in the moderation log.")
    return redirect("discussion:review")


@require_GET
def log(request):
    return TemplateResponse(request, "discussion/log.html", {"viewer": Viewer.of(request.user),
                                                             "actions": selectors.moderation_log()})
