"""Feedback board over JSON (`/api/v1/feedback…`). Writes need a signed-in session and the CSRF header; a service's
Refusal becomes `{"error"}` with its status in the API's one handler (portal.errors)."""

from http import HTTPStatus
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as Answer

from portal.api_types import PostId, answers, one_of, signed_in
from portal.errors import NotFound, Refusal
from portal.parsing import PageQuery, page_slice, parse_page

from . import selectors, services
from .models import BODY_MAX_LENGTH, NOTE_MAX_LENGTH, TITLE_MAX_LENGTH, Kind, Post, Status

router = Router()
PAGE_SIZE = 50


class PostOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    votes: int
    author: str


class PostDetailOut(PostOut):
    body: str
    tags: list[str]
    status_note: str
    duplicate_of: int | None
    proposal: int | None
    thread: int | None
    created: str
    answer: str


class PostListOut(Schema):
    items: list[PostOut]
    count: int


# The service checks these (with its sentences); the schema documents them.
class PostIn(Schema):
    kind: str = Field(..., json_schema_extra={"enum": Kind.values})
    title: str = Field(..., json_schema_extra={"maxLength": TITLE_MAX_LENGTH, "pattern": r"\S"})
    body: str = Field("", json_schema_extra={"maxLength": BODY_MAX_LENGTH},
                      description="Markdown; required for a bug report or a support question")
    tags: list[str] = Field(default_factory=list, description="Tag slugs")


class StatusIn(Schema):
    status: str = Field(..., json_schema_extra={"enum": [s for s in Status.values if s != Status.DUPLICATE]},
                        description="A duplicate is marked by merging it into the original post")
    note: str = Field(..., json_schema_extra={"maxLength": NOTE_MAX_LENGTH}, description="Shown on the post")


class VoteOut(Schema):
    voted: bool
    votes: int


def _author(post: Post) -> str:
    return post.author.primary_address or post.author.username


def _out(post: Post) -> dict:
    return {
        "id": post.pk, "kind": post.kind, "title": post.title, "status": post.status, "votes": post.vote_count,
        "author": _author(post),
    }


def _detail(post: Post) -> dict:
    return {
        **_out(post), "body": post.body, "tags": [t.slug for t in post.tags.all()], "status_note": post.status_note,
        "duplicate_of": post.duplicate_of_id, "proposal": post.proposal_number, "thread": post.thread_id,
        "created": post.created.isoformat(), "answer": post.answer,
    }


def _post(post_id: int) -> Post:
    post = Post.objects.select_related("author").filter(pk=post_id).first()
    if post is None:
        raise NotFound(f"There is no feedback post #{post_id}.")
    return post


KindFilter = one_of(Kind.values, blank=True, description="Only posts of this kind; empty for all")
StatusFilter = one_of(Status.values, blank=True, description="Only posts with this status; empty for all")
Sort = Annotated[str, Field(description=f"One of {', '.join(selectors.SORTS)}; anything else sorts by new")]


@router.get("/feedback", response=answers({200: PostListOut}, 400), summary="List feedback posts")
def feedback_list(request: HttpRequest, kind: KindFilter = "", status: StatusFilter = "", sort: Sort = "new",
                  page: PageQuery = None):
    if kind and kind not in Kind.values:
        raise Refusal(f"kind must be one of {', '.join(Kind.values)}.")
    if status and status not in Status.values:
        raise Refusal(f"status must be one of {', '.join(Status.values)}.")
    page = parse_page(page)
    qs = selectors.post_list(kind=kind, status=status, sort=sort if sort in selectors.SORTS else "new")
    return {"items": [_out(p) for p in qs[page_slice(page=page, per_page=PAGE_SIZE)]], "count": qs.count()}


@router.get("/feedback/{post_id}", response=answers({200: PostDetailOut}, 400, 404), summary="One feedback post")
def feedback_detail(request: HttpRequest, post_id: PostId):
    return _detail(_post(post_id))


@router.post("/feedback", response=answers({201: PostDetailOut}, 400, 429, signed_in=True), auth=signed_in,
             summary="Post feedback")
def feedback_create(request: HttpRequest, payload: PostIn):
    post = services.post_create(author=request.user, kind=payload.kind, title=payload.title, body=payload.body,
                                tag_slugs=payload.tags)
    return Answer(HTTPStatus.CREATED, _detail(post))


@router.post("/feedback/{post_id}/vote", response=answers({201: VoteOut}, 400, 404, 409, 429, signed_in=True),
             auth=signed_in, summary="Up-vote a post (once per account)")
def feedback_vote(request: HttpRequest, post_id: PostId):
    votes = services.vote_add(post=_post(post_id), user=request.user)
    return Answer(HTTPStatus.CREATED, {"voted": True, "votes": votes})


@router.delete("/feedback/{post_id}/vote", response=answers({200: VoteOut}, 400, 404, 409, signed_in=True),
               auth=signed_in, summary="Take back an up-vote")
def feedback_unvote(request: HttpRequest, post_id: PostId):
    votes = services.vote_remove(post=_post(post_id), user=request.user)
    return {"voted": False, "votes": votes}


@router.post("/feedback/{post_id}/status", response=answers({200: PostDetailOut}, 400, 404, 409, signed_in=True),
             auth=signed_in, summary="Change a post's status (staff)")
def feedback_status(request: HttpRequest, post_id: PostId, payload: StatusIn):
    post = _post(post_id)
    services.post_status_set(post=post, by=request.user, status=payload.status, note=payload.note)
    post.refresh_from_db()
    return _detail(post)


@router.post("/feedback/{post_id}/promote", response=answers({201: PostDetailOut}, 400, 404, 409, signed_in=True),
             auth=signed_in, summary="Promote an idea to a draft proposal (staff)")
def feedback_promote(request: HttpRequest, post_id: PostId):
    post = _post(post_id)
    services.post_promote(post=post, by=request.user)
    post.refresh_from_db()
    return Answer(HTTPStatus.CREATED, _detail(post))
