"""The moderators' toolkit: flags and the review queue's decisions, hide, lock, pin, move, slow mode, silence and
suspend. Every action is checked here (not in templates) and written to the moderation log."""

from __future__ import annotations

import datetime
from http import HTTPStatus

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.models import Sanction
from portal.accounts.roles import is_moderator
from portal.accounts.sanctions import format_until
from portal.conf import portal_settings
from portal.effects.services import durable, effect_enqueue
from portal.errors import Conflict, Forbidden, Refusal, SignInRequired
from portal.notifications.services import notify
from portal.parsing import parse_int
from portal.ratelimit import Limit

from . import live
from .models import Category, Comment, Flag, ModerationAction, Thread
from .services import _delete

Kind = ModerationAction.Kind
MAX_SANCTION_DAYS = 3650


def auto_hide_threshold() -> int:
    return portal_settings().discussion_auto_hide_flags


def _require_moderator(user) -> None:
    if not is_moderator(user):
        raise Forbidden("Only moderators can do that.")


def _log(*, kind: str, moderator, note: str = "", thread=None, comment=None, target_user=None) -> ModerationAction:
    action = ModerationAction(
        kind=kind, moderator=moderator, note=(note or "").strip()[:500], thread=thread, comment=comment,
        target_user=target_user,
    )
    action.full_clean()
    action.save()
    return action


HIDDEN_BY_MODERATOR = "Hidden by a moderator."


def _set_hidden(comment: Comment, *, hidden: bool, reason: str = "") -> None:
    comment.hidden = hidden
    comment.hidden_reason = reason[:200] if hidden else ""
    comment.changed = timezone.now()
    comment.save(update_fields=["hidden", "hidden_reason", "changed"])
    event = "hidden" if hidden else "unhidden"
    live.comment_broadcast(comment=comment, event=event)
    if hidden and comment.author_id:
        effect_enqueue(comment_hidden_notify, comment_id=comment.pk, hidden_at=comment.changed.isoformat())


@durable(eager=True)
def comment_hidden_notify(*, comment_id: int, hidden_at: str) -> None:
    """A durable effect of hiding a comment: its author hears that and why, once per hiding."""
    comment = Comment.objects.select_related("author", "thread").get(pk=comment_id)
    reason = comment.hidden_reason.rstrip(".")
    why = " by a moderator" if reason in ("", HIDDEN_BY_MODERATOR.rstrip(".")) else f": {reason}"
    notify(
        recipients=[comment.author], verb="comment_hidden",
        text=f"Your comment in “{comment.thread.title}” was hidden from readers{why}."[:300],
        url=comment.get_absolute_url(), key=f"comment-hidden:{comment_id}:{hidden_at}",
    )


@transaction.atomic
def flag_create(*, user, reason: str, text: str = "", comment: Comment | None = None, thread: Thread | None = None) -> Flag:
    """Flag a comment or a thread, once per user per item. After DISCUSSION_AUTO_HIDE_FLAGS distinct open flags a
    comment is hidden until a moderator decides."""
    if user is None or not user.is_authenticated:
        raise SignInRequired("Please sign in with your wallet to flag.")
    if (comment is None) == (thread is None):
        raise Refusal("Flag either a comment or a thread.")
    if reason not in Flag.Reason.values:
        raise Refusal("Choose a reason: spam, off-topic, abusive or other.")
    text = (text or "").strip()
    if reason == Flag.Reason.OTHER and not text:
        raise Refusal("Tell the moderators what is wrong when the reason is “other”.")
    if len(text) > 500:
        raise Refusal("The explanation is too long: at most 500 characters are allowed.")
    target_author = comment.author_id if comment else (thread.author_id if thread else None)
    if target_author == user.pk:
        raise Forbidden("You cannot flag your own post.")
    if comment is not None and comment.is_deleted:
        raise Refusal("This comment was deleted.", HTTPStatus.GONE)
    Limit("discussion-flag", 20, 3600).hit(str(user.pk), message="You have flagged {count} time{s} this hour, the most we take. Please wait {wait}.")
    flag = Flag(user=user, reason=reason, text=text, comment=comment, thread=thread)
    flag.full_clean(validate_constraints=False, validate_unique=False)
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError:
        raise Conflict("You have already flagged this; the moderators will look at it.") from None
    if comment is not None and not comment.hidden:
        open_flags = Flag.objects.filter(comment=comment, outcome=Flag.Outcome.OPEN).values("user").distinct().count()
        if open_flags >= auto_hide_threshold():
            comment = Comment.objects.select_for_update().get(pk=comment.pk)
            _set_hidden(comment, hidden=True, reason="Hidden after several flags, until a moderator decides.")
            _log(kind=Kind.AUTO_HIDE, moderator=None, comment=comment, thread=comment.thread,
                 target_user=comment.author, note=f"{open_flags} flags")
    return flag


@transaction.atomic
def comment_hide(*, comment: Comment, moderator, hidden: bool = True, note: str = "") -> Comment:
    _require_moderator(moderator)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.hidden != hidden:
        _set_hidden(comment, hidden=hidden, reason=note or HIDDEN_BY_MODERATOR)
        _log(kind=Kind.HIDE if hidden else Kind.UNHIDE, moderator=moderator, note=note, comment=comment,
             thread=comment.thread, target_user=comment.author)
    return comment


def _resolve_flags(*, comment: Comment | None, thread: Thread | None, outcome: str) -> int:
    qs = Flag.objects.filter(outcome=Flag.Outcome.OPEN)
    qs = qs.filter(comment=comment) if comment is not None else qs.filter(thread=thread)
    return qs.update(outcome=outcome)


@transaction.atomic
def flags_decide(
    *, moderator, decision: str, note: str = "", comment: Comment | None = None, thread: Thread | None = None,
    silence_hours: int | None = None,
) -> None:
    """The review queue's actions on a flagged item: `agree` (hide it), `disagree` (unhide, flags dismissed),
    `delete`, or `silence` (agree, hide, and silence the author for `silence_hours`)."""
    _require_moderator(moderator)
    if (comment is None) == (thread is None):
        raise Refusal("Decide on either a comment or a thread.")
    if decision not in {"agree", "disagree", "delete", "silence"}:
        raise Refusal("Choose agree, disagree, delete or silence.")
    if not Flag.objects.filter(outcome=Flag.Outcome.OPEN).filter(
        **({"comment": comment} if comment is not None else {"thread": thread})
    ).exists():
        raise Conflict("There are no open flags on this item any more.")
    author = comment.author if comment is not None else thread.author
    where_thread = comment.thread if comment is not None else thread
    if decision == "disagree":
        _resolve_flags(comment=comment, thread=thread, outcome=Flag.Outcome.DISAGREED)
        if comment is not None and comment.hidden:
            _set_hidden(Comment.objects.select_for_update().get(pk=comment.pk), hidden=False)
        _log(kind=Kind.DISAGREE, moderator=moderator, note=note, comment=comment, thread=where_thread, target_user=author)
        return
    if decision == "silence" and author is None:
        raise Refusal("This thread has no author to silence.")
    if decision == "silence" and not silence_hours:
        raise Refusal("Say for how long the author is silenced.")
    _resolve_flags(comment=comment, thread=thread, outcome=Flag.Outcome.AGREED)
    _log(kind=Kind.AGREE, moderator=moderator, note=note, comment=comment, thread=where_thread, target_user=author)
    if comment is not None:
        locked = Comment.objects.select_for_update().get(pk=comment.pk)
        if decision == "delete":
            if not locked.is_deleted:
                _delete(locked)
            _log(kind=Kind.DELETE, moderator=moderator, note=note, comment=comment, thread=where_thread, target_user=author)
        elif not locked.hidden:
            _set_hidden(locked, hidden=True, reason=note or HIDDEN_BY_MODERATOR)
            _log(kind=Kind.HIDE, moderator=moderator, note=note, comment=comment, thread=where_thread, target_user=author)
    else:
        if not thread.hidden:
            Thread.objects.filter(pk=thread.pk).update(hidden=True)
            _log(kind=Kind.HIDE_THREAD, moderator=moderator, note=note, thread=thread, target_user=author)
    if decision == "silence":
        sanction_impose(moderator=moderator, user=author, kind=Sanction.Kind.SILENCE, hours=silence_hours,
                        reason=note or "Flagged content, agreed by a moderator.")


@transaction.atomic
def thread_moderate(
    *, thread: Thread, moderator, action: str, note: str = "", category_slug: str | None = None,
    slow_mode_seconds: int | None = None,
) -> Thread:
    """lock, unlock, pin, unpin, hide, unhide, move (to `category_slug`) or slow-mode (`slow_mode_seconds`, 0 = off)."""
    _require_moderator(moderator)
    thread = Thread.objects.select_for_update().get(pk=thread.pk)
    changes = {
        "lock": ("locked", True, Kind.LOCK), "unlock": ("locked", False, Kind.UNLOCK),
        "pin": ("pinned", True, Kind.PIN), "unpin": ("pinned", False, Kind.UNPIN),
        "hide": ("hidden", True, Kind.HIDE_THREAD), "unhide": ("hidden", False, Kind.UNHIDE_THREAD),
    }
    if action in changes:
        field, value, kind = changes[action]
        setattr(thread, field, value)
    elif action == "move":
        category = Category.objects.filter(slug=category_slug or "").first()
        if category is None:
            raise Refusal("Choose a category to move the thread to.")
        thread.category = category
        kind = Kind.MOVE
        note = f"to {category.name}" + (f": {note}" if note else "")
    elif action == "slow-mode":
        if slow_mode_seconds is None or not 0 <= slow_mode_seconds <= 86_400:
            raise Refusal("Slow mode is a number of seconds between 0 (off) and 86400.")
        thread.slow_mode_seconds = slow_mode_seconds
        kind = Kind.SLOW_MODE
        note = (f"{slow_mode_seconds} seconds" if slow_mode_seconds else "off") + (f": {note}" if note else "")
    else:
        raise Refusal("Unknown moderation action.")
    thread.full_clean()
    thread.save()
    _log(kind=kind, moderator=moderator, note=note, thread=thread, target_user=thread.author)
    live.thread_state_broadcast(thread=thread)
    return thread


@transaction.atomic
def sanction_impose(*, moderator, user, kind: str, hours: int, reason: str) -> Sanction:
    """Silence (cannot post; voting still allowed) or suspend (cannot sign in) `user` for `hours`, with a reason
    the user reads."""
    _require_moderator(moderator)
    if kind not in Sanction.Kind.values:
        raise Refusal("Choose silence or suspend.")
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("Give a reason: the member reads it.")
    try:
        hours = parse_int(hours, what="The duration")
    except Refusal:
        raise Refusal("The duration is a number of hours.") from None
    if not 1 <= hours <= MAX_SANCTION_DAYS * 24:
        raise Refusal(f"The duration is between 1 hour and {MAX_SANCTION_DAYS} days.")
    if user.pk == moderator.pk:
        raise Refusal("You cannot sanction yourself.")
    if is_moderator(user) and not moderator.is_superuser:
        raise Forbidden("Moderators cannot be sanctioned by other moderators; ask an admin.")
    now = timezone.now()
    sanction = Sanction(user=user, kind=kind, reason=reason[:300], starts=now, ends=now + datetime.timedelta(hours=hours),
                        moderator=moderator)
    sanction.full_clean()
    sanction.save()
    _log(kind=Kind.SILENCE if kind == Sanction.Kind.SILENCE else Kind.SUSPEND, moderator=moderator, target_user=user,
         note=f"until {format_until(sanction.ends)}: {reason}")
    return sanction


@transaction.atomic
def sanction_lift(*, moderator, sanction: Sanction, note: str = "") -> Sanction:
    _require_moderator(moderator)
    if sanction.lifted is None:
        sanction.lifted = timezone.now()
        sanction.save(update_fields=["lifted"])
        _log(kind=Kind.LIFT, moderator=moderator, target_user=sanction.user, note=note)
    return sanction


__all__ = [
    "auto_hide_threshold", "comment_hide", "flag_create", "flags_decide", "sanction_impose", "sanction_lift",
    "thread_moderate",
]
