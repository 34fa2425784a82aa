"""Comments as a given viewer sees them: which text, which controls. The page, the catch-up and the live fragments
all render through here, so they never disagree."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import conditional_escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from portal.markdown import RENDERER_VERSION

from .mentions import comment_html_many
from .models import Comment, Thread
from .selectors import Viewer, comment_list_visible


@dataclass
class CommentCard:
    comment: Comment
    show_body: bool
    hidden_notice: bool
    can_edit: bool
    can_delete: bool
    can_react: bool
    can_reply: bool
    can_flag: bool
    can_moderate: bool
    quote: str = ""
    replies: list[CommentCard] = field(default_factory=list)
    body_html: str | None = None  # rendered once when several readers' variants are built

    @property
    def html(self):
        if not self.show_body:
            return ""
        if self.body_html is None:
            self.body_html = self.comment.body_html
        return self.body_html


QUOTE_MAX_LENGTH = 1_000


def quote_markdown(comment: Comment) -> str:
    """The start of a quote-reply: the comment's markdown as a blockquote (at most QUOTE_MAX_LENGTH characters),
    then a blank line to write under."""
    text = comment.body.strip()
    if len(text) > QUOTE_MAX_LENGTH:
        text = text[: QUOTE_MAX_LENGTH - 1].rstrip() + "…"
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines()) + "\n\n"


def excerpt(comment: Comment | None, length: int = 160) -> str:
    if comment is None or comment.is_deleted:
        return ""
    text = " ".join(strip_tags(comment.body_html).split())
    return text if len(text) <= length else text[: length - 1] + "…"


def comment_card(
    *, comment: Comment, viewer: Viewer, thread: Thread | None = None, grace_seconds: int, body_html=None, quote=None
) -> CommentCard:
    thread = thread or comment.thread
    own = viewer.user_id is not None and viewer.user_id == comment.author_id
    deleted = comment.is_deleted
    open_thread = not thread.locked
    show_body = not deleted and (not comment.hidden or own or viewer.moderator)
    within_grace = (timezone.now() - comment.created).total_seconds() <= grace_seconds
    quoted = comment.quoted if comment.quoted_id and comment.quoted_id != comment.parent_id else None
    return CommentCard(
        comment=comment,
        show_body=show_body,
        hidden_notice=comment.hidden and not deleted,
        can_edit=not deleted and ((own and within_grace and open_thread) or viewer.moderator),
        can_delete=not deleted and own,
        can_react=viewer.signed_in and not own and not deleted and not comment.hidden,
        can_reply=viewer.signed_in and open_thread and not deleted,
        can_flag=viewer.signed_in and not own and not deleted and not comment.hidden,
        can_moderate=viewer.moderator and not deleted,
        quote=("" if not show_body or quoted is None else quote if quote is not None else excerpt(quoted)),
        body_html=body_html,
    )


def comment_tree_cards(*, comments: list[Comment], viewer: Viewer, thread: Thread, grace_seconds: int) -> list[CommentCard]:
    cards = []
    for top in comments:
        card = comment_card(comment=top, viewer=viewer, thread=thread, grace_seconds=grace_seconds)
        card.replies = [
            comment_card(comment=r, viewer=viewer, thread=thread, grace_seconds=grace_seconds)
            for r in getattr(top, "reply_list", [])
        ]
        cards.append(card)
    return cards


def render_comment_item(*, card: CommentCard, append: bool) -> str:
    """A comment as a websocket/catch-up fragment: appended to its list (deduplicated client-side), or swapped in
    place by its id."""
    # Live fragments reach many readers, so they carry no CSRF token: their forms post through htmx, which sends
    # the reader's own token from <body hx-headers>.
    return render_to_string("discussion/_comment_oob.html", {"card": card, "append": append, "live": True})


THREAD_PREVIEW_COMMENTS = 3


@dataclass(frozen=True)
class ThreadPreview:
    """A proposal page's discussion card, the same for every reader: its HTML around each shown comment's
    time, which `html()` puts in words when it is read, so a rendering kept for a minute never says
    "12 seconds ago" for a minute."""

    pieces: tuple[str, ...]
    times: tuple[datetime, ...]

    def html(self) -> SafeString:
        words = (conditional_escape(naturaltime(when)) for when in self.times)
        html = "".join(part for pair in zip(self.pieces, words) for part in pair) + self.pieces[-1]
        return mark_safe(html)  # noqa: S308 — rendered by our template, and words escaped


def thread_preview_render(*, thread: Thread | None, limit: int = THREAD_PREVIEW_COMMENTS) -> ThreadPreview:
    """The card of `thread` (none: empty): its number of visible comments and the latest `limit` of them,
    rendered without a request (two queries). Whatever changes it moves
    `governance.selectors.proposal_page_version`."""
    if thread is None:
        return ThreadPreview(pieces=("",), times=())
    visible = comment_list_visible(thread=thread)
    latest = list(visible.select_related("author").order_by("-created")[:limit])[::-1]
    marker = f"\x00{secrets.token_hex(8)}\x00"  # where each time goes; no rendering can contain it by chance
    for comment in latest:
        comment.when = marker
    context = {"thread": thread, "latest": latest, "count": visible.count()}
    pieces = tuple(render_to_string("discussion/_thread_embed.html", context).split(marker))
    return ThreadPreview(pieces=pieces, times=tuple(c.created for c in latest))


def comment_html_backfill(*, model: type[Comment] = Comment, batch: int = 500) -> int:
    """Store the current renderer's HTML for every comment rendered by another version (after a RENDERER_VERSION
    bump, or rows older than the stored HTML); returns how many were re-rendered. Runs after every `migrate`."""
    done = 0
    while stale := list(model.objects.exclude(html_version=RENDERER_VERSION).order_by("pk").only("pk", "body")[:batch]):
        for comment, html in zip(stale, comment_html_many([c.body for c in stale]), strict=True):
            comment.html = html
            comment.html_version = RENDERER_VERSION
        model.objects.bulk_update(stale, ["html", "html_version"])
        done += len(stale)
    return done
