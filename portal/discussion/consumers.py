"""`/ws/threads/{id}/`: readers get new, edited, hidden and deleted comments as htmx OOB fragments; signed-in users
may post through the socket (htmx `ws-send`). Every write goes through services.comment_post, like the HTTP path."""

from __future__ import annotations

import asyncio
import json
from typing import TypedDict

from channels.db import database_sync_to_async
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.cache import cache
from django.template.loader import render_to_string

from portal.ratelimit import RateLimited

from . import live
from .models import Thread
from .selectors import Viewer, thread_visible
from .services import DiscussionError, comment_parent, comment_post

PRESENCE_WINDOW = 1  # seconds: presence changes within a window go out as one broadcast


_pending: set[asyncio.Task] = set()


class PostMessage(TypedDict, total=False):
    body: str
    parent: str


def presence_key(thread_id: int) -> str:
    return f"discussion:presence:{thread_id}"


@database_sync_to_async
def _thread_for(thread_id: int, user) -> tuple[Thread | None, bool]:
    viewer = Viewer.of(user)
    thread = Thread.objects.filter(pk=thread_id).first()
    if thread is None or not thread_visible(thread=thread, viewer=viewer):
        return None, viewer.moderator
    return thread, viewer.moderator


@database_sync_to_async
def _post(*, thread_id: int, user, body: str, parent_id: str | None) -> None:
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
        await self._presence_change(+1)

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self._presence_change(-1)

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
            await self._composer_status("Please sign in with your wallet to take part in the discussion.", error=True)
            return
        try:
            message: PostMessage = json.loads(text_data or "")
            if not isinstance(message, dict):
                raise ValueError
        except ValueError:
            await self._composer_status("The message was not understood.", error=True)
            return
        try:
            await _post(
                thread_id=self.thread_id,
                user=self.user,
                body=str(message.get("body", "")),
                parent_id=str(message.get("parent") or "") or None,
            )
        except (DiscussionError, RateLimited) as refused:
            await self._composer_status(str(refused), error=True)
            return
        await self.send(text_data=render_to_string("discussion/_composer_reset.html", {}))

    async def _composer_status(self, sentence: str, *, error: bool) -> None:
        html = render_to_string("discussion/_composer_status.html", {"sentence": sentence, "error": error, "oob": True})
        await self.send(text_data=html)

    # Presence: a counter in the cache (shared across processes with Redis); broadcasts are coalesced per window.
    async def _presence_change(self, delta: int) -> None:
        key = presence_key(self.thread_id)
        await cache.aadd(key, 0, timeout=None)
        try:
            count = await (cache.aincr(key, delta) if delta > 0 else cache.adecr(key, -delta))
        except ValueError:
            await cache.aset(key, max(delta, 0), timeout=None)
            count = max(delta, 0)
        if delta > 0:
            await self.send(text_data=live.presence_fragment(count=max(count, 1)))
        if await cache.aadd(f"{key}:window", 1, timeout=PRESENCE_WINDOW):
            # Read after the window closed: changes inside it are counted, later ones open a new window.
            task = asyncio.create_task(self._presence_broadcast_later(key=key, layer=self.channel_layer, group=self.group))
            _pending.add(task)
            task.add_done_callback(_pending.discard)

    @staticmethod
    async def _presence_broadcast_later(*, key: str, layer, group: str) -> None:
        await asyncio.sleep(PRESENCE_WINDOW + 0.3)
        count = max(int(await cache.aget(key, 0) or 0), 0)
        await layer.group_send(group, live.FragmentEvent(type="thread.fragment", html=live.presence_fragment(count=count)))

    async def comment_changed(self, event: live.CommentEvent):
        await self.send(text_data=event["html"][self.reader_kind(event["author_id"])])

    async def thread_fragment(self, event: live.FragmentEvent):
        await self.send(text_data=event["html"])
