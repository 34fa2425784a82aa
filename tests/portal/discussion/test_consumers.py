"""`/ws/threads/{id}/` driven through the real ASGI application (origin validator, sessions, routing)."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from portal.asgi import application
from portal.discussion import moderation
from portal.accounts.models import Sanction
from portal.discussion.models import Comment
from portal.discussion.services import comment_edit, comment_post

from .conftest import ANONYMOUS_HEADERS, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(thread_id: int, headers) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/threads/{thread_id}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    first = await communicator.receive_from()  # this socket's presence count
    assert 'id="thread-presence"' in first
    return communicator


async def receive_until(communicator, needle: str, timeout: float = 10) -> str:
    """Skip presence updates until a message containing `needle` arrives."""
    async with asyncio.timeout(timeout):
        while True:
            message = await communicator.receive_from(timeout=timeout)
            if needle in message:
                return message


async def no_message_containing(communicator, needle: str, wait: float = 0.3) -> None:
    try:
        while True:
            message = await communicator.receive_from(timeout=wait)
            assert needle not in message
    except asyncio.TimeoutError:
        return


async def test_anonymous_reads_but_cannot_post(thread, member):
    reader = await connect(thread.pk, ANONYMOUS_HEADERS)
    await reader.send_to(text_data=json.dumps({"body": "let me in"}))
    refusal = await receive_until(reader, "composer-status")
    assert "Please sign in with your wallet" in refusal
    assert await Comment.objects.acount() == 0

    await sync_to_async(comment_post)(thread=thread, author=member, body="Collateral factors **matter**")
    message = await receive_until(reader, "Collateral factors")
    assert "<strong>matter</strong>" in message
    assert 'hx-swap-oob="beforeend:#replies-root"' in message
    assert "Edit" not in message  # the anonymous rendering carries no author controls
    await reader.disconnect()


async def test_signed_in_post_reaches_every_reader(thread, member):
    poster = await connect(thread.pk, await sync_to_async(session_headers)(member))
    reader = await connect(thread.pk, ANONYMOUS_HEADERS)
    await poster.send_to(text_data=json.dumps({"body": "Posted through the socket", "parent": "", "HEADERS": {}}))
    reset = await receive_until(poster, 'id="composer-body"')  # the composer is cleared first
    assert "></textarea>" in reset
    own = await receive_until(poster, "Posted through the socket")
    assert "Edit" in own  # the author's rendering
    await receive_until(reader, "Posted through the socket")
    comment = await Comment.objects.aget()
    assert comment.author_id == member.pk
    await poster.disconnect()
    await reader.disconnect()


@pytest.mark.parametrize(
    ("text_data", "sentence"),
    [
        ("not json", "The message is not valid JSON."),
        ('["a list"]', "The message must be a JSON object."),
        ('{"body": ' * 5000 + '"x"' + "}" * 5000, "The message is nested too deeply (at most 32 levels)."),
        (json.dumps({"body": ["x"]}), "The comment must be text: write something first."),
        (json.dumps({"body": 5}), "The comment must be text: write something first."),
        (json.dumps({"body": "hi", "parent": "²"}), "The comment you are replying to must be a whole number."),
        (json.dumps({"body": "hi", "parent": "9" * 5000}), "The comment you are replying to is too large."),
        (json.dumps({"body": "hi", "parent": {"a": 1}}), "The comment you are replying to must be a whole number."),
        (json.dumps({"body": "  "}), "The comment is empty: write something first."),
        (json.dumps({"body": "x" * 10_001}), "The comment is too long"),
        (json.dumps({"body": "hi", "parent": "999999"}), "The comment you are replying to does not exist."),
        (json.dumps({"body": "hi", "parent": "abc"}), "The comment you are replying to must be a whole number."),
    ],
)
async def test_bad_socket_message_is_refused_and_writes_nothing(thread, member, text_data, sentence):
    poster = await connect(thread.pk, await sync_to_async(session_headers)(member))
    await poster.send_to(text_data=text_data)
    refusal = await receive_until(poster, "composer-status")
    assert sentence in refusal and "composer__status--error" in refusal
    assert await Comment.objects.acount() == 0
    await poster.disconnect()


@pytest.mark.parametrize(
    ("body", "sentence"),
    [(None, "The comment is empty: write something first."), ({"a": 1}, "The comment must be text: write something first.")],
)
async def test_socket_body_null_or_an_object_is_refused_not_stored_as_none(thread, member, body, sentence):
    """Issue 11: `{"body": null}` stored a comment reading "None", `{"body": {"a": 1}}` one reading "{'a': 1}"."""
    poster = await connect(thread.pk, await sync_to_async(session_headers)(member))
    await poster.send_to(text_data=json.dumps({"body": body}))
    refusal = await receive_until(poster, "composer-status")
    assert sentence in refusal and "composer__status--error" in refusal
    assert await Comment.objects.acount() == 0
    await poster.disconnect()


async def test_silenced_wallet_is_refused_on_the_socket(thread, member, moderator):
    await sync_to_async(moderation.sanction_impose)(
        moderator=moderator, user=member, kind=Sanction.Kind.SILENCE, hours=48, reason="Repeated insults"
    )
    poster = await connect(thread.pk, await sync_to_async(session_headers)(member))
    await poster.send_to(text_data=json.dumps({"body": "I am back"}))
    refusal = await receive_until(poster, "composer-status")
    assert "You are silenced until" in refusal and "Repeated insults" in refusal
    assert await Comment.objects.acount() == 0
    await poster.disconnect()


async def test_locked_thread_refuses_socket_posts(thread, member, moderator):
    await sync_to_async(moderation.thread_moderate)(thread=thread, moderator=moderator, action="lock")
    poster = await connect(thread.pk, await sync_to_async(session_headers)(member))
    await poster.send_to(text_data=json.dumps({"body": "Too late?"}))
    refusal = await receive_until(poster, "composer-status")
    assert "This thread is locked" in refusal
    assert await Comment.objects.acount() == 0
    await poster.disconnect()


async def test_lock_reaches_open_sockets(thread, moderator):
    reader = await connect(thread.pk, ANONYMOUS_HEADERS)
    await sync_to_async(moderation.thread_moderate)(thread=thread, moderator=moderator, action="lock")
    state = await receive_until(reader, 'id="thread-state"')
    assert "locked" in state
    await reader.disconnect()


async def test_slow_mode_refuses_a_second_comment(thread, member, moderator):
    await sync_to_async(moderation.thread_moderate)(
        thread=thread, moderator=moderator, action="slow-mode", slow_mode_seconds=120
    )
    poster = await connect(thread.pk, await sync_to_async(session_headers)(member))
    await poster.send_to(text_data=json.dumps({"body": "first"}))
    await receive_until(poster, "first")
    await poster.send_to(text_data=json.dumps({"body": "second"}))
    refusal = await receive_until(poster, "composer-status")
    assert "Slow mode is on in this thread" in refusal
    assert await Comment.objects.acount() == 1
    await poster.disconnect()


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null"])
async def test_foreign_origin_is_refused(thread, origin):
    communicator = WebsocketCommunicator(
        application, f"/ws/threads/{thread.pk}/", headers=[(b"origin", origin), (b"host", b"testserver")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_hidden_thread_is_for_moderators_only(thread, moderator):
    await sync_to_async(moderation.thread_moderate)(thread=thread, moderator=moderator, action="hide")
    anonymous = WebsocketCommunicator(application, f"/ws/threads/{thread.pk}/", headers=ANONYMOUS_HEADERS)
    connected, code = await anonymous.connect()
    assert not connected and code == 4404
    watcher = await connect(thread.pk, await sync_to_async(session_headers)(moderator))
    await watcher.disconnect()


async def test_unknown_thread_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/threads/999999/", headers=ANONYMOUS_HEADERS)
    connected, code = await communicator.connect()
    assert not connected


async def test_edit_and_hide_reach_other_sockets(thread, member, moderator):
    comment = await sync_to_async(comment_post)(thread=thread, author=member, body="Original words")
    reader = await connect(thread.pk, ANONYMOUS_HEADERS)
    watcher_mod = await connect(thread.pk, await sync_to_async(session_headers)(moderator))

    await sync_to_async(comment_edit)(comment=comment, editor=member, body="Better words")
    edited = await receive_until(reader, "Better words")
    assert f'id="comment-{comment.pk}"' in edited and 'hx-swap-oob="true"' in edited
    assert ">edited<" in edited

    await sync_to_async(moderation.comment_hide)(comment=comment, moderator=moderator, note="Off-topic")
    hidden = await receive_until(reader, "hidden by a moderator")
    assert "Better words" not in hidden  # readers lose the text
    mod_view = await receive_until(watcher_mod, "Hidden from readers")
    assert "Better words" in mod_view  # moderators keep it
    await reader.disconnect()
    await watcher_mod.disconnect()


async def test_reply_from_socket_nests_under_parent(thread, member, other_member):
    parent = await sync_to_async(comment_post)(thread=thread, author=member, body="Parent")
    poster = await connect(thread.pk, await sync_to_async(session_headers)(other_member))
    await poster.send_to(text_data=json.dumps({"body": "A reply", "parent": str(parent.pk)}))
    message = await receive_until(poster, "A reply")
    assert f"beforeend:#replies-{parent.pk}" in message
    await poster.disconnect()


async def test_presence_counts_readers(thread):
    first = await connect(thread.pk, ANONYMOUS_HEADERS)
    second = WebsocketCommunicator(application, f"/ws/threads/{thread.pk}/", headers=ANONYMOUS_HEADERS)
    await second.connect()
    assert "2 reading now" in await second.receive_from()
    update = await receive_until(first, "reading now", timeout=10)
    assert "2 reading now" in update
    await first.disconnect()
    await second.disconnect()
