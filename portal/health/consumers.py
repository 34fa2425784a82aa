"""`/ws/status/`: read-only live updates of the status pages (htmx ws extension, out-of-band swaps)."""

import asyncio
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from portal.conf import portal_settings

from .services import STATUS_GROUP


class StatusConsumer(AsyncWebsocketConsumer):
    """Anyone may watch; nobody writes. Changes arrive through the group, and a slow poll catches changes made by a
    sampler in another process when the channel layer is in-memory (`make run` without Redis)."""

    async def connect(self):
        await self.channel_layer.group_add(STATUS_GROUP, self.channel_name)
        await self.accept()
        # The page says which version it shows (`?v=`); a socket that reconnects after missing changes catches up.
        query = parse_qs(self.scope.get("query_string", b"").decode())
        seen = query.get("v", [None])[0]
        self.incident_code = query.get("incident", [""])[0][:12]  # an incident page also wants its timeline
        self.version = await database_sync_to_async(_version)()
        if seen is not None and seen != self.version:
            await self.send(text_data=await database_sync_to_async(_live_html)(self.incident_code))
        self.poller = asyncio.create_task(self.poll())

    async def disconnect(self, code):
        if getattr(self, "poller", None):
            self.poller.cancel()
        await self.channel_layer.group_discard(STATUS_GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        pass  # read-only: anything sent is ignored

    async def status_update(self, event):
        # The broadcaster read the version once for every socket: no database round trip per reader.
        self.version = event["version"]
        await self.send(text_data=event["html"])

    async def poll(self):
        seconds = portal_settings().health_ws_poll_seconds
        try:
            while True:
                await asyncio.sleep(seconds)
                version = await database_sync_to_async(_version)()
                if version != self.version:
                    self.version = version
                    await self.send(text_data=await database_sync_to_async(_live_html)(self.incident_code))
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket went away mid-send; disconnect() cleans up
            return


def _version():
    from .selectors import status_version

    return status_version()


def _live_html(incident_code: str = ""):
    from .live import live_html
    from .models import Incident

    incident = Incident.objects.filter(code=incident_code, draft=False).first() if incident_code else None
    return live_html(incident=incident)
