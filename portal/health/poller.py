"""One status poller per process (per event loop): while any `/ws/status/` socket is open it reads the status
version every HEALTH_WS_POLL_SECONDS and sends a fresh page to the sockets that have not seen it.

Broadcasts carry every change made in a process that shares the channel layer. The poll catches what they cannot:
the sampler in another process while the layer is in-memory (`make run` without Redis), or a layer that blinked.
One poll per process, not per socket: 1,000 readers cost one version read per interval, not 1,000.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Protocol

from channels.db import database_sync_to_async

from portal.conf import portal_settings

from .live import page_html
from .selectors import status_version

log = logging.getLogger(__name__)


class Watcher(Protocol):
    """A socket as the poller sees it: the version its page shows, the incident it names, a way to send."""

    version: str
    incident_code: str

    async def send(self, text_data: str) -> None: ...


class StatusPoller:
    def __init__(self) -> None:
        self.watchers: set[Watcher] = set()
        self.task: asyncio.Task | None = None

    def watch(self, watcher: Watcher) -> None:
        self.watchers.add(watcher)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def unwatch(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)
        if not self.watchers and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        while self.watchers:
            await asyncio.sleep(portal_settings().health_ws_poll_seconds)
            try:
                await self.catch_up()
            except Exception:  # noqa: BLE001 — a database blip; the next interval tries again
                log.warning("the status poll failed", exc_info=True)

    async def catch_up(self) -> int:
        """Send a fresh page to every watcher behind the current version (one render per incident code).
        Returns how many were sent."""
        version = await database_sync_to_async(status_version)()
        pages: dict[str, str] = {}
        sent = 0
        for watcher in [w for w in self.watchers if w.version != version]:
            code = watcher.incident_code
            if code not in pages:
                pages[code] = await database_sync_to_async(page_html)(incident_code=code)
            watcher.version = version
            try:
                await watcher.send(text_data=pages[code])
                sent += 1
            except Exception:  # noqa: BLE001 — the socket went away mid-send; its disconnect unwatches it
                continue
        return sent


_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StatusPoller] = weakref.WeakKeyDictionary()


def poller() -> StatusPoller:
    """This event loop's poller (a server process runs one loop; tests may run several, one after another)."""
    loop = asyncio.get_running_loop()
    if loop not in _pollers:
        _pollers[loop] = StatusPoller()
    return _pollers[loop]
