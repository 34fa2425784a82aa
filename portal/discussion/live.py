"""Live events for `/ws/threads/{id}/`: fragments rendered once per kind of reader, sent to the thread's channel-layer
group. Called from `transaction.on_commit` only, so nobody sees what was rolled back."""

from __future__ import annotations

import asyncio
from typing import TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string
from django.utils import timezone

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


_pending: set[asyncio.Task] = set()


def _send(thread_id: int, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(layer.group_send)(thread_group(thread_id), event)
        return
    # Called from a thread that runs an event loop itself: schedule the send there instead of blocking it.
    task = loop.create_task(layer.group_send(thread_group(thread_id), event))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def cursor_fragment(when) -> str:
    return render_to_string("discussion/_cursor.html", {"cursor": when.isoformat(), "oob": True})


def comment_variants(*, comment, append: bool) -> dict[str, str]:
    from portal.markdown import render_markdown

    from .rendering import _excerpt, comment_card, render_comment_item
    from .selectors import Viewer
    from .services import edit_grace_seconds

    grace = edit_grace_seconds()
    body_html = render_markdown(comment.body)
    quote = _excerpt(comment.quoted) if comment.quoted_id and comment.quoted_id != comment.parent_id else ""
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


def comment_broadcast(*, comment_id: int, event: str) -> None:
    """`event` is created, edited, hidden, unhidden or deleted; new comments are appended, others swapped in place."""
    from .models import Comment

    comment = Comment.objects.select_related("thread", "author", "quoted__author").get(pk=comment_id)
    variants = comment_variants(comment=comment, append=event == "created")
    cursor = cursor_fragment(timezone.now())
    _send(
        comment.thread_id,
        CommentEvent(
            type="comment.changed",
            author_id=comment.author_id,
            html={kind: html + cursor for kind, html in variants.items()},
        ),
    )


def reaction_broadcast(*, comment_id: int, count: int) -> None:
    from .models import Comment

    thread_id = Comment.objects.values_list("thread_id", flat=True).get(pk=comment_id)
    html = render_to_string("discussion/_plus_count.html", {"comment_id": comment_id, "count": count, "oob": True})
    _send(thread_id, FragmentEvent(type="thread.fragment", html=html))


def thread_state_broadcast(*, thread_id: int) -> None:
    """Lock, slow mode, pin or move: the banner every reader sees above the comments."""
    from .models import Thread

    thread = Thread.objects.select_related("category").get(pk=thread_id)
    html = render_to_string("discussion/_thread_state.html", {"thread": thread, "oob": True})
    _send(thread_id, FragmentEvent(type="thread.fragment", html=html))


def presence_fragment(*, count: int) -> str:
    return render_to_string("discussion/_presence.html", {"count": count, "oob": True})
