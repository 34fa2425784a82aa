"""`/ws/status/`: read-only live updates of the status pages (htmx ws extension, out-of-band swaps)."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from .live import STATUS_GROUP, StatusUpdate, page_html
from .poller import poller
from .selectors import status_version


class StatusConsumer(AsyncWebsocketConsumer):
    """Anyone may watch; nobody writes. Changes arrive through the group; the process's poller catches up a
    socket whose page fell behind."""

    async def connect(self):
        await self.channel_layer.group_add(STATUS_GROUP, self.channel_name)
        await self.accept()  # at once: the database read below must not hold up the handshake
        query = parse_qs(self.scope.get("query_string", b"").decode())
        seen = query.get("v", [None])[0]  # the version the page shows
        self.incident_code = query.get("incident", [""])[0][:12]  # an incident page also wants its timeline
        self.version = await database_sync_to_async(status_version)()
        poller().watch(self)
        if seen is not None and seen != self.version:  # reconnected after missing changes: catch up at once
            await self.send(text_data=await database_sync_to_async(page_html)(incident_code=self.incident_code))

    async def disconnect(self, code):
        poller().unwatch(self)
        await self.channel_layer.group_discard(STATUS_GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        pass  # read-only: anything sent is ignored

    async def status_update(self, event: StatusUpdate):
        # The broadcaster read the version once for every socket: no database round trip per reader.
        self.version = event["version"]
        await self.send(text_data=event["html"])
