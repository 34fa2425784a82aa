"""`/ws/threads/{id}/`: readers get new, edited, hidden and deleted comments as htmx OOB fragments; signed-in users
may post through the socket (htmx `ws-send`). The consumer holds the connection only: every write goes through
services.comment_post like the HTTP path, and fragments and presence live in live.py."""

from __future__ import annotations

from typing import TypedDict

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from portal.errors import Refusal
from portal.parsing import parse_json_object

from . import live
from .models import Thread
from .selectors import Viewer, thread_visible
from .services import comment_parent, comment_post


# A comment (10,000 characters, even each written as a JSON-escaped surrogate pair) and its parent id fit in this.
MAX_FRAME_BYTES = 128 * 1024


class PostMessage(TypedDict, total=False):
    body: str
    parent: str | int


@database_sync_to_async
def _thread_for(thread_id: int, user) -> tuple[Thread | None, bool]:
    viewer = Viewer.of(user)
    thread = Thread.objects.filter(pk=thread_id).first()
    if thread is None or not thread_visible(thread=thread, viewer=viewer):
        return None, viewer.moderator
    return thread, viewer.moderator


@database_sync_to_async
def _post(*, thread_id: int, user, body: object, parent_id: object) -> None:
    thread = Thread.objects.get(pk=thread_id)
    comment_post(thread=thread, author=user, body=body, parent=comment_parent(parent_id=parent_id))


class ThreadConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message):
        # Channels hops to a thread to close stale DB connections before every handler; with a thousand readers that
        # serialises the fan-out. This consumer reaches the database only via database_sync_to_async, which already
        # closes them, so the hop is skipped.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.thread_id = int(self.scope["url_route"]["kwargs"]["thread_id"])
        self.user = self.scope.get("user")
        thread, self.moderator = await _thread_for(self.thread_id, self.user)
        if thread is None:
            await self.close(code=4404)
            return
        self.group = live.thread_group(self.thread_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        count = await live.presence_change(thread_id=self.thread_id, delta=+1)
        await self.send(text_data=live.presence_fragment(count=max(count, 1)))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await live.presence_change(thread_id=self.thread_id, delta=-1)

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.user.is_authenticated

    def reader_kind(self, author_id: int) -> str:
        if self.moderator:
            return live.MODERATOR
        if not self.signed_in:
            return live.ANONYMOUS
        return live.AUTHOR if self.user.pk == author_id else live.MEMBER

    async def receive(self, text_data=None, bytes_data=None):
        if not self.signed_in:
            await self._composer_status("Please sign in with your wallet to take part in the discussion.")
            return
        try:
            message: PostMessage = parse_json_object(text_data, what="The message", max_bytes=MAX_FRAME_BYTES)
            # Passed on as sent: comment_post refuses a body that is not text, comment_parent a parent not an id.
            await _post(
                thread_id=self.thread_id, user=self.user, body=message.get("body", ""), parent_id=message.get("parent"),
            )
        except Refusal as refused:
            await self._composer_status(refused.message)
            return
        await self.send(text_data=render_to_string("discussion/_composer_reset.html", {}))

    async def _composer_status(self, sentence: str) -> None:
        # This socket speaks htmx fragments (CONTRACT: Websockets), so a refusal is the composer's error line, not
        # portal.errors.refusal_frame's JSON.
        await self.send(text_data=live.composer_refusal_fragment(sentence=sentence))

    async def comment_changed(self, event: live.CommentEvent):
        await self.send(text_data=event["html"][self.reader_kind(event["author_id"])])

    async def thread_fragment(self, event: live.FragmentEvent):
        await self.send(text_data=event["html"])
