"""A signed-in user's loan socket: joins one group per linked wallet; the sampler pushes changed loan cards."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from .live import loan_group
from .selectors import wallets_of


class LoanConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = [loan_group(a) for a in await database_sync_to_async(wallets_of)(user)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        return  # read-only socket

    async def loan_changed(self, event):
        await self.send(text_data=event["html"])
