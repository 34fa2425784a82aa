"""The one place feedback posts, votes, statuses, merges and promotions are written (the support queue's writes are
in support.py). Every refusal is a portal.errors.Refusal (or one of its kinds) carrying the sentence a person reads
and the HTTP status, raised before anything is written. Notifications leave after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from governance.services import proposal_create
from portal.accounts.models import User
from portal.accounts.roles import is_moderator
from portal.conf import portal_settings
from portal.discussion.services import thread_create
from portal.errors import Conflict, Forbidden, NotFound, Refusal, SignInRequired
from portal.health.webhooks import webhooks_send
from portal.notifications.services import notify_later
from portal.ratelimit import Limit

from .board import board_changed
from .models import (
    BODY_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Kind,
    Post,
    Status,
    StatusChange,
    Tag,
    Vote,
)

log = logging.getLogger(__name__)
FEEDBACK_CATEGORY = "feedback"


def _require_user(user, *, doing: str) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise SignInRequired(f"Please sign in with your wallet to {doing}.")


def _require_staff(user, *, doing: str) -> None:
    """Staff for the board and the support queue are the moderators (portal.accounts.roles)."""
    _require_user(user, doing=doing)
    if not is_moderator(user):
        raise Forbidden(f"Only staff can {doing}.")


def _clean_text(text: str, *, what: str, max_length: int, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise Refusal(f"The {what} is empty: write something first.")
    if len(text) > max_length:
        raise Refusal(f"The {what} is too long: {len(text):,} characters, at most {max_length:,} are allowed.")
    return text


def _recount(post_ids: Iterable[int]) -> None:
    """Set vote_count from the vote rows themselves (called with the post rows locked), so it cannot drift."""
    count = Vote.objects.filter(post=OuterRef("pk")).values("post").annotate(n=Count("pk")).values("n")
    Post.objects.filter(pk__in=list(post_ids)).update(vote_count=Coalesce(Subquery(count), 0))
    board_changed()  # an update() sends no signal: the board's new version is set here, after the commit


def _locked(post: Post) -> Post:
    return Post.objects.select_for_update().get(pk=post.pk)


# Posts ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def post_create(*, author, kind: str, title: str, body: str = "", tag_slugs: Iterable[str] = ()) -> Post:
    """Create a post and its comment thread in the "feedback" discussion category."""
    _require_user(author, doing="post feedback")
    if kind not in Kind.values:
        raise Refusal("Choose what kind of post this is: an idea, a bug report or a support question.")
    title = _clean_text(title, what="title", max_length=TITLE_MAX_LENGTH)
    body = _clean_text(body, what="description", max_length=BODY_MAX_LENGTH, required=kind != Kind.IDEA)
    slugs = {s for s in tag_slugs if s}
    tags = list(Tag.objects.filter(slug__in=slugs))
    if len(tags) != len(slugs):
        unknown = ", ".join(sorted(slugs - {t.slug for t in tags}))
        raise Refusal(f"There is no tag called “{unknown}”.")
    Limit("feedback-post", portal_settings().feedback_posts_per_hour, 3600).hit(
        str(author.pk), message="You have posted {count} feedback post{s} this hour, the most we take. Please wait {wait} and try again."
    )
    post = Post(kind=kind, title=title, body=body, author=author)
    post.full_clean()
    post.save()
    post.tags.set(tags)
    post.thread = _thread_for(post)
    if post.thread:
        post.save(update_fields=["thread"])
    return post


def _thread_for(post: Post):
    """The discussion thread carrying the post's comments; None if the discussion app refuses (logged)."""
    try:
        with transaction.atomic():
            # Created as the system (the post already passed the poster's checks), owned by the post's author so
            # comments in it reach them.
            return thread_create(
                title=post.title,
                category_slug=FEEDBACK_CATEGORY,
                body=f"Comments on the feedback post [“{post.title}”]({post.get_absolute_url()}).",
                owner=post.author,
            )
    except Refusal as error:
        log.warning("feedback post %s has no comment thread: %s", post.pk, error)
        return None


# Votes -----------------------------------------------------------------------------------------------------------


def _vote_checks(post: Post, user) -> None:
    _require_user(user, doing="vote")
    if post.duplicate_of_id:
        raise Conflict(
            f"This post was merged into #{post.duplicate_of_id}: vote there instead."
        )
    Limit("feedback-vote", portal_settings().feedback_votes_per_minute, 60).hit(
        str(user.pk), message="You are voting very fast: at most {count} vote{s} a {per}. Please wait {wait} and try again."
    )


@transaction.atomic
def vote_add(*, post: Post, user) -> int:
    """Up-vote once; a second vote by the same account is refused (409). Returns the new count.

    The post row is locked and the unique constraint backs it up, so concurrent requests count exactly once."""
    _vote_checks(post, user)
    post = _locked(post)
    try:
        with transaction.atomic():
            Vote.objects.create(post=post, user=user)
    except IntegrityError:
        raise Conflict("You have already voted for this post.") from None
    _recount([post.pk])
    return Post.objects.values_list("vote_count", flat=True).get(pk=post.pk)


@transaction.atomic
def vote_remove(*, post: Post, user) -> int:
    """Take back an up-vote; 409 if there is none. Returns the new count."""
    _require_user(user, doing="vote")
    post = _locked(post)
    deleted, _ = Vote.objects.filter(post=post, user=user).delete()
    if not deleted:
        raise Conflict("You have not voted for this post.")
    _recount([post.pk])
    return Post.objects.values_list("vote_count", flat=True).get(pk=post.pk)


@transaction.atomic
def vote_toggle(*, post: Post, user) -> tuple[bool, int]:
    """Flip the account's up-vote. Returns (voted now, new count)."""
    _vote_checks(post, user)
    post = _locked(post)
    deleted, _ = Vote.objects.filter(post=post, user=user).delete()
    if not deleted:
        try:
            with transaction.atomic():
                Vote.objects.create(post=post, user=user)
        except IntegrityError:  # a concurrent toggle won the race: the vote exists, as the person wanted
            pass
    _recount([post.pk])
    return not deleted, Post.objects.values_list("vote_count", flat=True).get(pk=post.pk)


# Statuses, merging, promotion -----------------------------------------------------------------------------------


def _followers(post: Post) -> list:
    """Who hears about a post: its author and everyone who voted on it."""
    ids = set(Vote.objects.filter(post=post).values_list("user_id", flat=True)) | {post.author_id}
    return list(User.objects.filter(pk__in=ids))


def _status_webhooks(*, post: Post, change: StatusChange) -> None:
    """In the write's transaction: `feedback.status_changed` for the webhooks (portal.health.webhooks)."""
    webhooks_send(event="feedback.status_changed", payload=lambda: {
        "post": {"id": post.pk, "kind": post.kind, "title": post.title, "status": post.status,
                 "url": post.get_absolute_url(), "duplicate_of": post.duplicate_of_id},
        "change": {"from": change.from_status, "to": change.to_status, "note": change.note,
                   "at": change.created.isoformat()},
    })


def _record_status(*, post: Post, by, to_status: str, note: str) -> StatusChange:
    change = StatusChange(post=post, from_status=post.status, to_status=to_status, note=note, by=by)
    change.full_clean()
    change.save()
    post.status = to_status
    post.status_note = note
    post.save(update_fields=["status", "status_note"])
    return change


@transaction.atomic
def post_status_set(*, post: Post, by, status: str, note: str) -> StatusChange:
    """Staff move a post to a new status with a note shown on the post; its author and voters are notified."""
    _require_staff(by, doing="change a post's status")
    if status not in Status.values:
        raise Refusal("That is not a status a post can have.")
    if status == Status.DUPLICATE:
        raise Refusal("To mark a post as a duplicate, merge it into the original post.")
    note = _clean_text(note, what="staff note", max_length=NOTE_MAX_LENGTH)
    post = _locked(post)
    if post.status == status:
        raise Conflict(f"The post is already {post.get_status_display()}.")
    change = _record_status(post=post, by=by, to_status=status, note=note)
    label = post.get_status_display()
    recipients = _followers(post)
    url = post.get_absolute_url()
    text = f"“{post.title}” is now {label}: {note[:120]}"
    notify_later(recipients=recipients, verb="post_status", text=text, url=url, actor=by,
                 key=f"post-status:{change.pk}")
    _status_webhooks(post=post, change=change)
    return change


@transaction.atomic
def post_merge(*, source: Post, target: Post, by, note: str = "") -> Post:
    """Merge a duplicate into the original: votes move over (an account that voted on both counts once), the
    duplicate links to the original and the original lists its duplicates. Returns the original."""
    _require_staff(by, doing="merge posts")
    if source.pk == target.pk:
        raise Refusal("A post cannot be merged into itself.")
    first, second = sorted([source.pk, target.pk])  # lock in a fixed order: no deadlock between opposite merges
    locked = {p.pk: p for p in Post.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
    if len(locked) != 2:
        raise NotFound("That post does not exist.")
    source, target = locked[source.pk], locked[target.pk]
    if source.duplicate_of_id:
        raise Conflict(f"This post was already merged into #{source.duplicate_of_id}.")
    if target.duplicate_of_id:
        raise Conflict(
            f"#{target.pk} is itself a duplicate of #{target.duplicate_of_id}: merge into that one."
        )
    note = _clean_text(note, what="staff note", max_length=NOTE_MAX_LENGTH, required=False)
    recipients = _followers(source)
    already = Vote.objects.filter(post=target).values_list("user_id", flat=True)
    Vote.objects.filter(post=source).exclude(user_id__in=already).update(post=target)
    Vote.objects.filter(post=source).delete()  # the rest voted on both: counted once, on the original
    source.duplicate_of = target
    source.save(update_fields=["duplicate_of"])
    change = _record_status(post=source, by=by, to_status=Status.DUPLICATE, note=note or f"Merged into #{target.pk}.")
    _status_webhooks(post=source, change=change)
    _recount([source.pk, target.pk])
    url = target.get_absolute_url()
    text = f"“{source.title}” was merged into “{target.title}”; your vote moved with it"
    notify_later(recipients=recipients, verb="post_status", text=text, url=url, actor=by,
                 key=f"post-merged:{source.pk}")
    target.refresh_from_db()
    return target


@transaction.atomic
def post_promote(*, post: Post, by):
    """Staff turn an idea into a draft improvement proposal (title, body, link back), authored by the staff member.

    The draft's voting window starts PROMOTED_PROPOSAL_START_DAYS (default 3) from now and lasts
    PROMOTED_PROPOSAL_DAYS (default 7); the author edits it before activating. Returns the proposal; governance's
    refusals (e.g. an author without a wallet) pass through as they are."""
    _require_staff(by, doing="promote a post to a proposal")
    post = _locked(post)
    if post.kind != Kind.IDEA:
        raise Refusal("Only ideas can become proposals.")
    if post.proposal_number:
        raise Conflict(f"This idea is already proposal LIP-{post.proposal_number}.")
    if post.duplicate_of_id:
        raise Conflict("Promote the original post, not a merged duplicate.")
    start = timezone.now() + timedelta(days=portal_settings().promoted_proposal_start_days)
    end = start + timedelta(days=portal_settings().promoted_proposal_days)
    body = (
        f"{post.body}\n\n---\n"
        f"From the community feedback board: [{post.title}]({post.get_absolute_url()}) "
        f"by {post.author.primary_address or post.author}, {post.vote_count} up-vote{'s' if post.vote_count != 1 else ''}."
    ).strip()
    proposal = proposal_create(author=by, title=post.title, body=body, start=start, end=end)
    post.proposal_number = proposal.number
    post.save(update_fields=["proposal_number"])
    return proposal
