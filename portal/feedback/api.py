"""Feedback board over JSON (`/api/v1/feedback…`). Writes need a signed-in session and the CSRF header; a service's
Refusal becomes `{"error"}` with its status in the API's one handler (portal.errors)."""

from http import HTTPStatus

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as Answer
from ninja.security import django_auth

from portal.errors import Error, NotFound, Refusal
from portal.parsing import PageQuery, page_slice, parse_page

from . import selectors, services
from .models import Kind, Post, Status

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


class PostIn(Schema):
    kind: str
    title: str
    body: str = ""
    tags: list[str] = Field(default_factory=list)


class StatusIn(Schema):
    status: str
    note: str


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


@router.get("/feedback", response={200: PostListOut, 400: Error, 422: Error}, summary="List feedback posts")
def feedback_list(request: HttpRequest, kind: str = "", status: str = "", sort: str = "new", page: PageQuery = None):
    if kind and kind not in Kind.values:
        raise Refusal(f"kind must be one of {', '.join(Kind.values)}.")
    if status and status not in Status.values:
        raise Refusal(f"status must be one of {', '.join(Status.values)}.")
    page = parse_page(page)
    qs = selectors.post_list(kind=kind, status=status, sort=sort if sort in selectors.SORTS else "new")
    return {"items": [_out(p) for p in qs[page_slice(page=page, per_page=PAGE_SIZE)]], "count": qs.count()}


@router.get("/feedback/{post_id}", response={200: PostDetailOut, 404: Error}, summary="One feedback post")
def feedback_detail(request: HttpRequest, post_id: int):
    return _detail(_post(post_id))


@router.post("/feedback", response={201: PostDetailOut, 400: Error, 401: Error, 422: Error, 429: Error}, auth=django_auth,
             summary="Post feedback")
def feedback_create(request: HttpRequest, payload: PostIn):
    post = services.post_create(author=request.user, kind=payload.kind, title=payload.title, body=payload.body,
                                tag_slugs=payload.tags)
    return Answer(HTTPStatus.CREATED, _detail(post))


@router.post("/feedback/{post_id}/vote", response={201: VoteOut, 401: Error, 404: Error, 409: Error, 429: Error},
             auth=django_auth, summary="Up-vote a post (once per account)")
def feedback_vote(request: HttpRequest, post_id: int):
    votes = services.vote_add(post=_post(post_id), user=request.user)
    return Answer(HTTPStatus.CREATED, {"voted": True, "votes": votes})


@router.delete("/feedback/{post_id}/vote", response={200: VoteOut, 401: Error, 404: Error, 409: Error},
               auth=django_auth, summary="Take back an up-vote")
def feedback_unvote(request: HttpRequest, post_id: int):
    votes = services.vote_remove(post=_post(post_id), user=request.user)
    return {"voted": False, "votes": votes}


@router.post("/feedback/{post_id}/status", response={200: PostDetailOut, 400: Error, 401: Error, 403: Error,
             404: Error, 409: Error, 422: Error}, auth=django_auth, summary="Change a post's status (staff)")
def feedback_status(request: HttpRequest, post_id: int, payload: StatusIn):
    post = _post(post_id)
    services.post_status_set(post=post, by=request.user, status=payload.status, note=payload.note)
    post.refresh_from_db()
    return _detail(post)


@router.post("/feedback/{post_id}/promote", response={201: PostDetailOut, 400: Error, 401: Error, 403: Error,
             404: Error, 409: Error, 503: Error}, auth=django_auth, summary="Promote an idea to a draft proposal (staff)")
def feedback_promote(request: HttpRequest, post_id: int):
    post = _post(post_id)
    services.post_promote(post=post, by=request.user)
    post.refresh_from_db()
    return Answer(HTTPStatus.CREATED, _detail(post))
