"""The one place discussion content is written. Every check (sign-in, sanctions, locks, slow mode, rate limits,
length) lives here, so HTTP views, the API and the websocket consumer refuse the same things with the same sentence.
Live events leave only after the transaction commits."""

from __future__ import annotations

import datetime
from http import HTTPStatus

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portal.accounts.roles import is_moderator
from portal.accounts.sanctions import user_posting_refusal
from portal.conf import portal_settings
from portal.effects.services import durable, effect_enqueue
from portal.errors import Forbidden, NotFound, RateLimited, Refusal, SignInRequired
from portal.notifications.services import notify
from portal.parsing import parse_id
from portal.ratelimit import Limit

from . import live
from .models import Category, Comment, CommentRevision, Reaction, Thread
from .mentions import mentioned_users
from .selectors import Viewer, edit_grace_seconds, thread_visible

COMMENT_MAX_LENGTH = 10_000
# slug: (name, description, position, staff_only, listed); also seeded by migration 0002.
DEFAULT_CATEGORIES = {
    "governance": ("Governance", "Proposals, parameters and the DAO's direction.", 1, False, True),
    "general": ("General", "Everything else about the lending DAO.", 2, False, True),
    "support": ("Support", "Questions about using the protocol or this portal.", 3, False, True),
    "announcements": ("Announcements", "News from the team. Only moderators start threads here.", 4, True, True),
    "feedback": ("Feedback", "Comment threads of feedback posts.", 5, False, False),
}
TITLE_MAX_LENGTH = 200


def _require_poster(user) -> None:
    if user is None or not user.is_authenticated:
        raise SignInRequired("Please sign in with your wallet to take part in the discussion.")
    refusal = user_posting_refusal(user=user)
    if refusal:
        raise Forbidden(refusal)


def _clean_body(body: str, *, what: str = "comment", max_length: int = COMMENT_MAX_LENGTH) -> str:
    if body is not None and not isinstance(body, str):  # a socket frame's {"body": {"a": 1}}, a JSON number
        raise Refusal(f"The {what} must be text: write something first.")
    body = (body or "").strip()
    if not body:
        raise Refusal(f"The {what} is empty: write something first.")
    if len(body) > max_length:
        raise Refusal(
            f"The {what} is too long: {len(body):,} characters, at most {max_length:,} are allowed."
        )
    return body


def _rate_limit(user) -> None:
    """Per wallet per minute, stricter for accounts younger than DISCUSSION_NEW_ACCOUNT_HOURS."""
    new_hours = portal_settings().discussion_new_account_hours
    is_new = user.date_joined > timezone.now() - datetime.timedelta(hours=new_hours)
    if is_new:
        limit = Limit("discussion-post-new", portal_settings().discussion_new_account_posts_per_minute, 60)
    else:
        limit = Limit("discussion-post", portal_settings().discussion_posts_per_minute, 60)
    limit.hit(
        str(user.pk),
        message="You are posting too fast: at most {count} comment{s} a {per}. Please wait {wait} and try again."
        if not is_new
        else (f"Accounts younger than {new_hours} hours may post {{count}} comment{{s}} a {{per}}. "
              "Please wait {wait} and try again."),
    )


def category_ensure(*, slug: str) -> Category:
    """A default category (see DEFAULT_CATEGORIES), created when missing."""
    name, description, position, staff_only, listed = DEFAULT_CATEGORIES[slug]
    category, _ = Category.objects.get_or_create(
        slug=slug,
        defaults={"name": name, "description": description, "position": position, "staff_only": staff_only,
                  "listed": listed},
    )
    return category


@transaction.atomic
def thread_create(*, title: str, category_slug: str, author=None, body: str = "", owner=None) -> Thread:
    """Start a thread in a category. `author=None` is the system (e.g. the thread that comes with a proposal) and
    skips the posting checks; a person must be allowed to post, and only moderators start threads in staff-only
    categories. A system thread may have an `owner` (the proposal's or feedback post's author), who is told of
    comments in it."""
    category = Category.objects.filter(slug=category_slug).first()
    if category is None and category_slug in DEFAULT_CATEGORIES:
        # The seeding migration's rows are gone after a flush (transactional tests); bring the default back.
        category = category_ensure(slug=category_slug)
    if category is None:
        raise NotFound(f"There is no discussion category called “{category_slug}”.")
    title = (title or "").strip()
    if not title:
        raise Refusal("The thread needs a title.")
    if len(title) > TITLE_MAX_LENGTH:
        raise Refusal(f"The title is too long: at most {TITLE_MAX_LENGTH} characters are allowed.")
    body = (body or "").strip()
    if author is not None:
        _require_poster(author)
        if category.staff_only and not is_moderator(author):
            raise Forbidden(f"Only moderators may start threads in {category.name}.")
        body = _clean_body(body, what="opening post", max_length=20_000)
        _rate_limit(author)
    thread = Thread(category=category, title=title, body=body, author=author or owner)
    thread.full_clean()
    thread.save()
    return thread


def comment_parent(*, parent_id: int | str | None) -> Comment | None:
    """The comment a reply answers, from a form, socket or API value; None when blank. Refuses an id that names no
    comment (comment_post checks that it is in the same thread)."""
    if parent_id is None or parent_id == "":
        return None
    parent = Comment.objects.filter(pk=parse_id(parent_id, what="The comment you are replying to")).first()
    if parent is None:
        raise Refusal("The comment you are replying to does not exist.")
    return parent


@transaction.atomic
def comment_post(*, thread: Thread, author, body: str, parent: Comment | None = None) -> Comment:
    """Post a comment (or a reply: one level deep, so a reply to a reply hangs under the top-level comment).

    Raises a portal.errors.Refusal (SignInRequired, Forbidden, RateLimited, …) and writes nothing when the author is not
    signed in, is silenced or suspended, the thread is locked or hidden, slow mode applies, the body is empty or too
    long, the parent belongs to another thread, or the author posts too fast.
    """
    _require_poster(author)
    thread = Thread.objects.select_for_update().get(pk=thread.pk)
    if thread.locked:
        raise Forbidden("This thread is locked: no new comments.")
    if thread.hidden and not is_moderator(author):
        raise Forbidden("This thread has been hidden by a moderator.")
    body = _clean_body(body)
    if parent is not None:
        if parent.thread_id != thread.pk:
            raise Refusal("You can only reply to a comment in the same thread.")
        if parent.is_deleted:
            raise Refusal("That comment was deleted; reply to the thread instead.")
    quoted = parent
    if parent is not None and parent.parent_id:
        parent = parent.parent
    if thread.slow_mode_seconds and not is_moderator(author):
        last = Comment.objects.filter(thread=thread, author=author).order_by("-created").values_list("created", flat=True).first()
        if last is not None:
            wait = thread.slow_mode_seconds - (timezone.now() - last).total_seconds()
            if wait > 0:
                raise RateLimited(
                    f"Slow mode is on in this thread: one comment every {thread.slow_mode_seconds} seconds. "
                    f"You can comment again in {int(wait) + 1} seconds.",
                    retry_after=int(wait) + 1,
                )
    _rate_limit(author)
    comment = Comment(thread=thread, author=author, body=body, parent=parent, quoted=quoted)
    # The thread (locked above), the author and the replied-to comments are rows in hand: skip re-reading each one.
    comment.full_clean(exclude=["thread", "author", "parent", "quoted"])
    comment.save()
    Thread.objects.filter(pk=thread.pk).update(last_activity=comment.created)
    live.comment_broadcast(comment=comment, event="created")
    effect_enqueue(comment_reply_notify, comment_id=comment.pk)  # its notifications are keyed by the comment
    return comment


@durable(eager=True)
def comment_reply_notify(*, comment_id: int) -> None:
    """A durable effect of `comment_create`: tell the quoted comment's author, and the thread's author (a feedback
    post's, a proposal's), about a reply, and the people it @mentions (portal.discussion.mentions) — once each."""
    comment = Comment.objects.select_related("quoted__author", "author", "thread__author").get(pk=comment_id)
    thread = comment.thread
    if comment.quoted is not None:
        notify(
            recipients=[comment.quoted.author],
            verb="comment_reply",
            text=f"{comment.author} replied to your comment in “{thread.title}”",
            url=comment.get_absolute_url(),
            actor=comment.author,
            key=f"comment-reply:{comment_id}",
        )
    if thread.author_id and thread.author_id != getattr(comment.quoted, "author_id", None):
        notify(
            recipients=[thread.author],
            verb="comment_reply",
            text=f"{comment.author} commented on “{thread.title}”",
            url=comment.get_absolute_url(),
            actor=comment.author,
            key=f"comment-reply:{comment_id}",
        )
    told = {getattr(comment.quoted, "author_id", None), thread.author_id}
    mentioned = [user for user in mentioned_users(comment.body) if user.pk not in told]
    if mentioned and thread_visible(thread=thread, viewer=Viewer()) and not comment.hidden:
        notify(
            recipients=mentioned,
            verb="mention",
            text=f"{comment.author} mentioned you in “{thread.title}”",
            url=comment.get_absolute_url(),
            actor=comment.author,
            key=f"comment-mention:{comment_id}",
        )


def _editable_comment(*, comment: Comment, user) -> Comment:
    if user is None or not user.is_authenticated:
        raise SignInRequired("Please sign in with your wallet first.")
    comment = Comment.objects.select_for_update().select_related("thread").get(pk=comment.pk)
    if comment.is_deleted:
        raise Refusal("This comment was deleted.", HTTPStatus.GONE)
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, editor, body: str) -> Comment:
    """The author edits their comment within the grace window (moderators at any time); the old text is kept."""
    comment = _editable_comment(comment=comment, user=editor)
    moderator = is_moderator(editor)
    if comment.author_id != editor.pk and not moderator:
        raise Forbidden("You can only edit your own comments.")
    if not moderator:
        refusal = user_posting_refusal(user=editor)
        if refusal:
            raise Forbidden(refusal)
        if comment.thread.locked:
            raise Forbidden("This thread is locked: comments can no longer be edited.")
        grace = edit_grace_seconds()
        if (timezone.now() - comment.created).total_seconds() > grace:
            raise Forbidden(
                f"Comments can be edited for {grace // 60} minutes after posting; this one can no longer be edited."
            )
    body = _clean_body(body)
    if body == comment.body:
        return comment
    CommentRevision.objects.create(comment=comment, body=comment.body)
    comment.body = body
    comment.edited = comment.changed = timezone.now()
    comment.full_clean()
    comment.save(update_fields=["body", "edited", "changed"])
    live.comment_broadcast(comment=comment, event="edited")
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, user) -> Comment:
    """The author deletes their comment: the text goes, a stub stays so replies keep their context."""
    comment = _editable_comment(comment=comment, user=user)
    if comment.author_id != user.pk:
        raise Forbidden("You can only delete your own comments.")
    _delete(comment)
    return comment


def _delete(comment: Comment) -> None:
    if comment.body:
        CommentRevision.objects.create(comment=comment, body=comment.body)
    comment.deleted = comment.changed = timezone.now()
    comment.body = ""
    comment.save(update_fields=["deleted", "body", "changed"])
    live.comment_broadcast(comment=comment, event="deleted")


@transaction.atomic
def reaction_toggle(*, comment: Comment, user) -> int:
    """Add or remove the user's +1 on a comment; returns the new count."""
    _require_poster(user)
    if comment.is_deleted or comment.hidden:
        raise Forbidden("You cannot react to this comment.")
    if comment.author_id == user.pk:
        raise Forbidden("You cannot +1 your own comment.")
    removed, _ = Reaction.objects.filter(comment=comment, user=user).delete()
    if removed:
        Comment.objects.filter(pk=comment.pk).update(plus_ones=F("plus_ones") - 1, changed=timezone.now())
    else:
        try:
            with transaction.atomic():
                Reaction.objects.create(comment=comment, user=user)
        except IntegrityError:  # a double click raced us; the +1 is already there
            pass
        else:
            Comment.objects.filter(pk=comment.pk).update(plus_ones=F("plus_ones") + 1, changed=timezone.now())
    count = Comment.objects.values_list("plus_ones", flat=True).get(pk=comment.pk)
    live.reaction_broadcast(comment=comment, count=count)
    return count
