"""The Redis channel layer, recovering from a Redis restart at once.

After Redis restarts, channels_redis keeps handing out this event loop's pooled connections, and redis-py's own
retries on them kept failing ("Connection closed by server") for new sockets, one failure per stale connection. On
such an error this layer drops the loop's connections and tries the operation once more on fresh ones, so the first
socket after Redis returns already works. A layer call that still fails raises as before (broadcast logs it).
"""

from __future__ import annotations

import asyncio
import logging

from channels_redis.core import RedisChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

RECONNECT_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


class RecoveringRedisChannelLayer(RedisChannelLayer):
    async def _fresh_connections(self, exc: Exception) -> None:
        log.warning("channel layer lost Redis (%s): reconnecting", exc)
        loop_layer = self._layers.pop(asyncio.get_running_loop(), None)
        if loop_layer is not None:
            try:
                await loop_layer.flush()
            except RECONNECT_ERRORS:
                pass  # closing a dead connection may fail too; it is dropped either way

    async def _again(self, operation, *args):
        try:
            return await operation(*args)
        except RECONNECT_ERRORS as exc:
            await self._fresh_connections(exc)
            return await operation(*args)

    async def send(self, channel, message):
        return await self._again(super().send, channel, message)

    async def group_add(self, group, channel):
        return await self._again(super().group_add, group, channel)

    async def group_discard(self, group, channel):
        return await self._again(super().group_discard, group, channel)

    async def group_send(self, group, message):
        return await self._again(super().group_send, group, message)

    async def receive(self, channel):
        try:
            return await super().receive(channel)
        except RECONNECT_ERRORS as exc:
            # The socket closes (its page reconnects); the next one must not inherit the dead connections.
            await self._fresh_connections(exc)
            raise
