"""services and sanctions: every refusal has its sentence and writes nothing."""

from __future__ import annotations

import datetime
import re
from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import override_settings
from django.utils import timezone

from portal.discussion import moderation
from portal.accounts.models import Sanction
from portal.accounts.sanctions import user_posting_refusal, wallet_sign_in_refusal
from portal.discussion.models import Comment, CommentRevision, ModerationAction, Reaction
from portal.discussion.services import (
    comment_delete,
    comment_edit,
    comment_post,
    reaction_toggle,
    thread_create,
)
from portal.errors import RateLimited, Refusal

from .conftest import ESTABLISHED

pytestmark = pytest.mark.django_db


def refused(call, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as caught:
        call(**kwargs)
    return caught.value


def test_thread_create_for_a_proposal_and_by_a_member(member):
    system = thread_create(title="Proposal 1: raise LTV", category_slug="governance", author=None)
    assert system.author is None and system.category.slug == "governance"
    own = thread_create(title="Ideas", category_slug="general", author=member, body="What next?")
    assert own.author == member


def test_thread_create_refusals(member):
    assert "no discussion category" in str(refused(thread_create, title="x", category_slug="nope", author=member))
    assert "needs a title" in str(refused(thread_create, title="  ", category_slug="general", author=member, body="b"))
    error = refused(thread_create, title="News", category_slug="announcements", author=member, body="b")
    assert error.status == HTTPStatus.FORBIDDEN and "Only moderators" in str(error)


def test_comment_bad_inputs_write_nothing(thread, member, other_member):
    assert "is empty" in str(refused(comment_post, thread=thread, author=member, body=" \n "))
    too_long = refused(comment_post, thread=thread, author=member, body="x" * 10_001)
    assert "too long" in str(too_long) and too_long.status == HTTPStatus.BAD_REQUEST
    other_thread = thread_create(title="Elsewhere", category_slug="general", author=None)
    foreign_parent = comment_post(thread=other_thread, author=other_member, body="over there")
    wrong = refused(comment_post, thread=thread, author=member, body="hi", parent=foreign_parent)
    assert "same thread" in str(wrong)
    from django.contrib.auth.models import AnonymousUser

    anonymous = refused(comment_post, thread=thread, author=AnonymousUser(), body="hi")
    assert anonymous.status == HTTPStatus.UNAUTHORIZED and "sign in" in str(anonymous)
    assert Comment.objects.filter(thread=thread).count() == 0


def test_rate_limit_is_stricter_for_new_accounts(thread, make_user):
    newcomer = make_user()
    with override_settings(PORTAL={"DISCUSSION_NEW_ACCOUNT_POSTS_PER_MINUTE": 2, "DISCUSSION_POSTS_PER_MINUTE": 5}):
        for n in range(2):
            comment_post(thread=thread, author=newcomer, body=f"hello {n}")
        with pytest.raises(RateLimited) as limited:
            comment_post(thread=thread, author=newcomer, body="one more")
        assert re.fullmatch(r"Accounts younger than 24 hours may post 2 comments a minute\. "
                            r"Please wait (\d+ seconds?|1 minute) and try again\.", str(limited.value))
        veteran = make_user(joined=ESTABLISHED)
        for n in range(5):
            comment_post(thread=thread, author=veteran, body=f"hello {n}")
        with pytest.raises(RateLimited) as limited:
            comment_post(thread=thread, author=veteran, body="one more")
        assert re.fullmatch(r"You are posting too fast: at most 5 comments a minute\. "
                            r"Please wait (\d+ seconds?|1 minute) and try again\.", str(limited.value))
    assert Comment.objects.filter(body="one more").count() == 0


def test_reply_to_a_reply_nests_under_the_top_level_and_quotes_the_reply(thread, member, other_member):
    top = comment_post(thread=thread, author=member, body="top")
    reply = comment_post(thread=thread, author=other_member, body="reply", parent=top)
    deeper = comment_post(thread=thread, author=member, body="deeper", parent=reply)
    assert deeper.parent == top and deeper.quoted == reply


def test_edit_keeps_history_within_the_grace_window(thread, member, other_member):
    comment = comment_post(thread=thread, author=member, body="first words")
    comment_edit(comment=comment, editor=member, body="second words")
    assert CommentRevision.objects.get(comment=comment).body == "first words"
    assert "only edit your own" in str(refused(comment_edit, comment=comment, editor=other_member, body="mine now"))
    Comment.objects.filter(pk=comment.pk).update(created=timezone.now() - datetime.timedelta(hours=2))
    comment.refresh_from_db()
    late = refused(comment_edit, comment=comment, editor=member, body="too late")
    assert "can no longer be edited" in str(late)
    comment.refresh_from_db()
    assert comment.body == "second words"


def test_delete_leaves_a_stub(thread, member, other_member):
    comment = comment_post(thread=thread, author=member, body="regret")
    assert "only delete your own" in str(refused(comment_delete, comment=comment, user=other_member))
    comment_delete(comment=comment, user=member)
    comment.refresh_from_db()
    assert comment.is_deleted and comment.body == ""


def test_plus_one_toggles_once_per_user(thread, member, other_member):
    comment = comment_post(thread=thread, author=member, body="+1 me")
    assert reaction_toggle(comment=comment, user=other_member) == 1
    assert reaction_toggle(comment=comment, user=other_member) == 0
    assert "your own comment" in str(refused(reaction_toggle, comment=comment, user=member))
    assert Reaction.objects.count() == 0


def test_silence_blocks_posting_and_says_why_and_until_when(thread, member, moderator):
    sanction = moderation.sanction_impose(moderator=moderator, user=member, kind="silence", hours=24, reason="Spam links")
    sentence = user_posting_refusal(user=member)
    assert sentence.startswith("You are silenced until ") and sentence.endswith(": Spam links")
    assert sanction.ends.strftime("%-d %b %Y") in sentence
    error = refused(comment_post, thread=thread, author=member, body="hello")
    assert error.status == HTTPStatus.FORBIDDEN and "silenced" in str(error)
    moderation.sanction_lift(moderator=moderator, sanction=sanction)
    assert user_posting_refusal(user=member) is None
    assert list(ModerationAction.objects.values_list("kind", flat=True)) == ["lift", "silence"]


def test_suspension_refuses_sign_in_by_any_linked_wallet(member, moderator):
    extra = "0x" + "ab" * 20
    SocialAccount.objects.create(user=member, provider="siwe", uid=extra)
    assert wallet_sign_in_refusal(address=member.username) is None
    moderation.sanction_impose(moderator=moderator, user=member, kind="suspend", hours=72, reason="Scam attempts")
    for address in (member.username, extra.upper().replace("0X", "0x")):
        sentence = wallet_sign_in_refusal(address=address)
        assert sentence.startswith("This wallet is suspended until ") and sentence.endswith("UTC: Scam attempts")
    assert wallet_sign_in_refusal(address="0x" + "cd" * 20) is None


def test_expired_sanction_no_longer_applies(member, moderator):
    Sanction.objects.create(user=member, kind="silence", reason="old", ends=timezone.now() - datetime.timedelta(minutes=1),
                            moderator=moderator)
    assert user_posting_refusal(user=member) is None


def test_sanction_refusals(member, moderator, other_member):
    assert "Only moderators" in str(refused(moderation.sanction_impose, moderator=other_member, user=member,
                                            kind="silence", hours=1, reason="r"))
    assert "Give a reason" in str(refused(moderation.sanction_impose, moderator=moderator, user=member,
                                          kind="silence", hours=1, reason=" "))
    assert "between 1 hour" in str(refused(moderation.sanction_impose, moderator=moderator, user=member,
                                           kind="silence", hours=0, reason="r"))
    assert Sanction.objects.count() == 0


def test_moderator_may_post_in_slow_mode_and_others_wait(thread, member, moderator):
    moderation.thread_moderate(thread=thread, moderator=moderator, action="slow-mode", slow_mode_seconds=60)
    comment_post(thread=thread, author=member, body="one")
    error = refused(comment_post, thread=thread, author=member, body="two")
    assert error.status == HTTPStatus.TOO_MANY_REQUESTS and "Slow mode" in str(error)
    comment_post(thread=thread, author=moderator, body="mod one")
    comment_post(thread=thread, author=moderator, body="mod two")
    assert "Only moderators" in str(refused(moderation.thread_moderate, thread=thread, moderator=member, action="lock"))
