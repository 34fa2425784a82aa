"""The support queue's writes: staff claim, answer and solve questions; the asker accepts the answer or reopens the
question. Same rules as services.py: refusals are portal.errors.Refusal raised before anything is written,
notifications are durable effects queued with the write."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from portal.errors import Conflict, Forbidden, Refusal
from portal.notifications.services import notify_later

from .models import BODY_MAX_LENGTH, Kind, Post, Status
from .services import _clean_text, _locked, _require_staff, _require_user


def _question(post: Post, by, *, doing: str, asker: bool = False) -> Post:
    """The question, locked, once `by` may do this to it: staff, or with `asker` only the person who asked."""
    (_require_user if asker else _require_staff)(by, doing=doing)
    post = _locked(post)
    if post.kind != Kind.QUESTION:
        raise Refusal("Only support questions go through the support queue.")
    if asker and by.pk != post.author_id:
        raise Forbidden(f"Only the person who asked can {doing}.")
    return post


@transaction.atomic
def question_claim(*, post: Post, by) -> Post:
    """A staff member takes a question; someone else's claim is respected."""
    post = _question(post, by, doing="claim support questions")
    if post.claimed_by_id and post.claimed_by_id != by.pk:
        raise Conflict(f"{post.claimed_by} already claimed this question.")
    post.claimed_by, post.claimed_at = by, post.claimed_at or timezone.now()
    post.save(update_fields=["claimed_by", "claimed_at"])
    return post


@transaction.atomic
def question_answer(*, post: Post, by, body: str) -> Post:
    """Staff write the official answer; the first one sets the first-response time. The asker is notified."""
    post = _question(post, by, doing="answer support questions officially")
    body = _clean_text(body, what="answer", max_length=BODY_MAX_LENGTH)
    now = timezone.now()
    post.answer, post.answered_by, post.answered_at = body, by, now
    post.first_response_at = post.first_response_at or now
    if not post.claimed_by_id:
        post.claimed_by, post.claimed_at = by, now
    post.full_clean()
    post.save()
    asker, url, text = post.author, post.get_absolute_url(), f"Staff answered your question “{post.title}”"
    notify_later(recipients=[asker], verb="question_answered", text=text, url=url, actor=by)
    return post


@transaction.atomic
def question_solve(*, post: Post, by) -> Post:
    """Staff close an answered question without waiting for the asker to accept."""
    post = _question(post, by, doing="mark questions solved")
    if not post.answer:
        raise Conflict("Answer the question before marking it solved.")
    if post.solved_at:
        raise Conflict("This question is already solved.")
    post.solved_at = timezone.now()
    post.status = Status.DONE
    post.save(update_fields=["solved_at", "status"])
    return post


@transaction.atomic
def question_accept(*, post: Post, by) -> Post:
    """The asker accepts the official answer: the question is solved."""
    post = _question(post, by, doing="accept the answer", asker=True)
    if not post.answer:
        raise Conflict("There is no answer to accept yet.")
    now = timezone.now()
    post.accepted_at, post.solved_at, post.status = now, post.solved_at or now, Status.DONE
    post.save(update_fields=["accepted_at", "solved_at", "status"])
    return post


@transaction.atomic
def question_reopen(*, post: Post, by) -> Post:
    """The asker is not satisfied: the question goes back into the queue and the staff member who had it hears."""
    post = _question(post, by, doing="reopen the question", asker=True)
    if not post.solved_at and not post.accepted_at:
        raise Conflict("This question is still open.")
    post.accepted_at = post.solved_at = None
    post.status = Status.OPEN
    post.save(update_fields=["accepted_at", "solved_at", "status"])
    staff = [u for u in (post.claimed_by, post.answered_by) if u is not None]
    url, text = post.get_absolute_url(), f"{by} reopened the question “{post.title}”"
    notify_later(recipients=staff, verb="question_answered", text=text, url=url, actor=by)
    return post
