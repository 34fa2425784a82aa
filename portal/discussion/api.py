"""Discussion endpoints of `/api/v1/` (CONTRACT: JSON API). Posting needs a signed-in session and the CSRF header
(portal.api_types.signed_in); every check is services.comment_post's."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus

from ninja import Field, Router, Schema
from ninja.responses import Status

from portal.api_types import ThreadId, answers, signed_in
from portal.errors import NotFound
from portal.parsing import PageQuery, parse_page

from . import services
from .models import Thread
from .selectors import Viewer, comment_list_visible, comment_list_visible_page, thread_visible

router = Router()


class CommentOut(Schema):
    id: int
    author: str | None
    author_name: str
    html: str
    created: datetime
    edited: datetime | None
    parent: int | None
    plus_ones: int


class ThreadOut(Schema):
    id: int
    title: str
    category: str
    locked: bool
    pinned: bool
    slow_mode_seconds: int
    created: datetime
    items: list[CommentOut]
    count: int


class CommentIn(Schema):
    body: str = Field(..., max_length=100_000, json_schema_extra={"pattern": r"\S"},
                      description="Markdown; not blank (the service refuses an empty comment with a sentence)")
    parent: int | None = None


class CommentCreated(Schema):
    id: int
    html: str


def _thread(request, thread_id: int) -> Thread:
    thread = Thread.objects.select_related("category").filter(pk=thread_id).first()
    if thread is None or not thread_visible(thread=thread, viewer=Viewer.of(request.user)):
        raise NotFound(f"There is no discussion thread {thread_id}.")
    return thread


@router.get("/threads/{thread_id}", response=answers({200: ThreadOut}, 400, 404))
def thread_get(request, thread_id: ThreadId, page: PageQuery = None):
    """A thread with one page of its visible comments (`items`, oldest first, 100 a page; hidden and deleted ones
    are left out) and `count`, how many visible comments it has in all. A page past the end has no items."""
    page_number = parse_page(page)
    thread = _thread(request, thread_id)
    return {
        "id": thread.pk,
        "title": thread.title,
        "category": thread.category.slug,
        "locked": thread.locked,
        "pinned": thread.pinned,
        "slow_mode_seconds": thread.slow_mode_seconds,
        "created": thread.created,
        "items": [
            {
                "id": c.pk,
                "author": c.author.primary_address,
                "author_name": str(c.author),
                "html": c.body_html,
                "created": c.created,
                "edited": c.edited,
                "parent": c.parent_id,
                "plus_ones": c.plus_ones,
            }
            for c in comment_list_visible_page(thread=thread, page=page_number)
        ],
        "count": comment_list_visible(thread=thread).count(),
    }


@router.post(
    "/threads/{thread_id}/comments",
    auth=signed_in,
    response=answers({201: CommentCreated}, 400, 404, 429, signed_in=True),
)
def comment_create(request, thread_id: ThreadId, payload: CommentIn):
    """Post a comment as the signed-in wallet. Refused (with a sentence) when the thread is locked, the wallet is
    silenced, the body is empty or too long, slow mode applies or the wallet posts too fast (the API's Refusal
    handler answers `{"error"}` with the status)."""
    thread = _thread(request, thread_id)
    parent = services.comment_parent(parent_id=payload.parent)
    comment = services.comment_post(thread=thread, author=request.user, body=payload.body, parent=parent)
    return Status(HTTPStatus.CREATED, {"id": comment.pk, "html": comment.body_html})
