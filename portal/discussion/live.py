"""Live events for `/ws/threads/{id}/`: fragments rendered once per kind of reader, sent to the thread's channel-layer
group through portal.live.broadcast — after commit, rendered then, so nobody sees what was rolled back."""

from __future__ import annotations

import asyncio
from typing import TypedDict

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone

from portal.conf import portal_settings
from portal.live import broadcast, send_async

from .models import Comment, Thread
from .rendering import comment_card, excerpt, render_comment_item
from .selectors import Viewer

PRESENCE_WINDOW = 1  # seconds: presence changes within a window go out as one broadcast

# Reader kinds a socket can be: each gets its own rendering of a comment (hidden text, own controls).
ANONYMOUS, MEMBER, AUTHOR, MODERATOR = "anonymous", "member", "author", "moderator"


class CommentEvent(TypedDict):
    type: str  # "comment.changed" → ThreadConsumer.comment_changed
    author_id: int
    html: dict[str, str]  # reader kind → fragment


class FragmentEvent(TypedDict):
    type: str  # "thread.fragment" → ThreadConsumer.thread_fragment: the same HTML for everyone
    html: str


def thread_group(thread_id: int) -> str:
    return f"thread.{thread_id}"


def cursor_fragment(when) -> str:
    return render_to_string("discussion/_cursor.html", {"cursor": when.isoformat(), "oob": True})


def comment_variants(*, comment: Comment, append: bool) -> dict[str, str]:
    """The comment as each kind of reader sees it; the body (stored rendered) and the quote are shared by all of
    them."""
    grace = portal_settings().discussion_edit_grace_seconds
    body_html = comment.body_html
    quote = excerpt(comment.quoted) if comment.quoted_id and comment.quoted_id != comment.parent_id else ""
    viewers = {
        ANONYMOUS: Viewer(),
        MEMBER: Viewer(user_id=-1),
        AUTHOR: Viewer(user_id=comment.author_id),
        MODERATOR: Viewer(user_id=-1, moderator=True),
    }
    return {
        kind: render_comment_item(
            card=comment_card(comment=comment, viewer=viewer, thread=comment.thread, grace_seconds=grace,
                              body_html=body_html, quote=quote),
            append=append,
        )
        for kind, viewer in viewers.items()
    }


def comment_broadcast(*, comment: Comment, event: str) -> None:
    """After commit, every reader of the thread gets the comment as they may see it. `event` is created, edited,
    hidden, unhidden or deleted; new comments are appended, others swapped in place."""
    comment_id = comment.pk

    def build() -> CommentEvent:
        saved = Comment.objects.select_related("thread", "author", "quoted__author").get(pk=comment_id)
        variants = comment_variants(comment=saved, append=event == "created")
        cursor = cursor_fragment(timezone.now())
        return CommentEvent(
            type="comment.changed",
            author_id=saved.author_id,
            html={kind: html + cursor for kind, html in variants.items()},
        )

    broadcast(thread_group(comment.thread_id), build)


def reaction_broadcast(*, comment: Comment, count: int) -> None:
    """After commit, the comment's new +1 count for every reader."""
    comment_id = comment.pk

    def build() -> FragmentEvent:
        html = render_to_string("discussion/_plus_count.html", {"comment_id": comment_id, "count": count, "oob": True})
        return FragmentEvent(type="thread.fragment", html=html)

    broadcast(thread_group(comment.thread_id), build)


def thread_state_broadcast(*, thread: Thread) -> None:
    """After commit — lock, slow mode, pin or move: the banner every reader sees above the comments."""
    thread_id = thread.pk

    def build() -> FragmentEvent:
        saved = Thread.objects.select_related("category").get(pk=thread_id)
        html = render_to_string("discussion/_thread_state.html", {"thread": saved, "oob": True})
        return FragmentEvent(type="thread.fragment", html=html)

    broadcast(thread_group(thread_id), build)


_pending: set[asyncio.Task] = set()


def presence_key(thread_id: int) -> str:
    return f"discussion:presence:{thread_id}"


async def presence_change(*, thread_id: int, delta: int) -> int:
    """Count a reader in (+1) or out (-1) of the thread and return the new count. The counter lives in the cache
    (shared across processes with Redis); changes inside one PRESENCE_WINDOW reach the readers as one broadcast."""
    key = presence_key(thread_id)
    await cache.aadd(key, 0, timeout=None)
    try:
        count = await (cache.aincr(key, delta) if delta > 0 else cache.adecr(key, -delta))
    except ValueError:
        await cache.aset(key, max(delta, 0), timeout=None)
        count = max(delta, 0)
    if await cache.aadd(f"{key}:window", 1, timeout=PRESENCE_WINDOW):
        task = asyncio.create_task(_presence_broadcast_later(thread_id=thread_id))
        _pending.add(task)
        task.add_done_callback(_pending.discard)
    return count


async def _presence_broadcast_later(*, thread_id: int) -> None:
    # Read after the window closed: changes inside it are counted, later ones open a new window.
    await asyncio.sleep(PRESENCE_WINDOW + 0.3)
    count = max(int(await cache.aget(presence_key(thread_id), 0) or 0), 0)
    await send_async(thread_group(thread_id), FragmentEvent(type="thread.fragment", html=presence_fragment(count=count)))


def composer_refusal_fragment(*, sentence: str) -> str:
    """The sentence under a socket poster's composer when their comment is refused."""
    return render_to_string("discussion/_composer_status.html", {"sentence": sentence, "error": True, "oob": True})


def presence_fragment(*, count: int) -> str:
    return render_to_string("discussion/_presence.html", {"count": count, "oob": True})
