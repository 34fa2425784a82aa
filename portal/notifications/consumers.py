"""A signed-in user's own socket: the bell's unread count and new notifications, pushed as htmx OOB fragments.
The consumer holds the connection only; the fragments are live.py's."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from .live import NotificationEvent, unread_fragment, user_group


class NotificationConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        # Opened on the notifications page (?list=1): that page alone has the list new rows go into.
        self.with_list = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("list") == ["1"]
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # (Re)connected: the count may have changed while the socket was down.
        await self.send(text_data=await database_sync_to_async(unread_fragment)(user_id=user.pk))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # Read-only socket: the client never sends anything we act on.
        return

    async def notification_created(self, event: NotificationEvent):
        html = event["html"] + (event.get("item", "") if self.with_list else "")
        await self.send(text_data=html)
