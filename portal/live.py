"""broadcast(group, event): the one way an event reaches websockets.

The send is registered with `transaction.on_commit(..., robust=True)`, so nobody sees what was rolled back and a
channel layer that is down costs the live update only — never the write that was already saved. Outside a
transaction (autocommit) on_commit runs at once, with the same robustness.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

Event = Mapping[str, Any]

_pending: set[asyncio.Task] = set()


def broadcast(group: str, event: Event | Callable[[], Event | None]) -> None:
    """After commit, send `event` to the channel-layer `group`. `event` may be a zero-argument callable that builds
    the event (renders fragments) after commit; returning None sends nothing."""
    transaction.on_commit(lambda: send_now(group, event), robust=True)


def send_now(group: str, event: Event | Callable[[], Event | None]) -> None:
    """Send at once, from sync code in any thread; failures are logged, never raised."""
    try:
        if callable(event):
            event = event()
        if event is None:
            return
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            async_to_sync(layer.group_send)(group, dict(event))
            return
        # Sync code called from a thread that runs an event loop: schedule the send on that loop instead of blocking it.
        task = loop.create_task(_guarded(layer.group_send(group, dict(event)), group))
        _pending.add(task)
        task.add_done_callback(_pending.discard)
    except Exception:  # noqa: BLE001 — a live update is best-effort; the saved write must stand
        log.warning("live update to %s was not sent", group, exc_info=True)


async def _guarded(send, group: str) -> None:
    try:
        await send
    except Exception:  # noqa: BLE001
        log.warning("live update to %s was not sent", group, exc_info=True)


async def send_async(group: str, event: Event) -> None:
    """From async code (a consumer): send now, logging instead of raising when the layer is down."""
    layer = get_channel_layer()
    if layer is None:
        return
    await _guarded(layer.group_send(group, dict(event)), group)


__all__ = ["broadcast", "send_now", "send_async"]
