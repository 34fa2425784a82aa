"""A signed-in user's own socket: the bell's unread count and new notifications, pushed as htmx OOB fragments."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from .live import NotificationEvent, user_group
from .selectors import notification_unread_count


class NotificationConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # (Re)connected: the count may have changed while the socket was down.
        await self.send(text_data=await self._count_fragment(user))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # Read-only socket: the client never sends anything we act on.
        return

    @database_sync_to_async
    def _count_fragment(self, user) -> str:
        return render_to_string("notifications/_live.html", {"unread": notification_unread_count(user=user)})

    async def notification_created(self, event: NotificationEvent):
        await self.send(text_data=event["html"])
