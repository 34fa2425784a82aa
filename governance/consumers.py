"""`/ws/proposals/{number}/`: the connection only. Read-only for everyone; what arrives is built in governance/live.py."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer

from governance.live import TallyEvent, proposal_group


class ProposalConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = proposal_group(int(self.scope["url_route"]["kwargs"]["number"]))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # Votes are signed and posted over HTTP; nothing a socket sends is acted on.
        return

    async def tally_update(self, event: TallyEvent):
        await self.send(text_data=event["html"])
