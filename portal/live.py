"""broadcast(group, event): the one way an event reaches websockets.

The send is registered with `transaction.on_commit(..., robust=True)`, so nobody sees what was rolled back and a
channel layer that is down costs the live update only — never the write that was already saved. Outside a
transaction (autocommit) on_commit runs at once, with the same robustness.

`broadcast_coalesced(group, key, build, window=)` is for state that changes faster than anyone can read it (a live
tally under a stream of votes): the first commit in a window schedules one `build` on the server's event loop,
`window` seconds later and off the request path; commits inside the window only ride along. Without a running
server loop (a management command, a task worker) it sends at once, as `broadcast` does.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connections, transaction

log = logging.getLogger(__name__)

Event = Mapping[str, Any]

_pending: set[asyncio.Task] = set()
_server_loop: asyncio.AbstractEventLoop | None = None
# flag → when this process's scheduled coalesced send opens the next window (commits before then ride along)
_scheduled: dict[str, float] = {}
_scheduled_lock = threading.Lock()


def server_loop_remember() -> None:
    """Called by the ASGI application on each connection: the loop that coalesced sends are scheduled on."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


def broadcast(group: str, event: Event | Callable[[], Event | None]) -> None:
    """After commit, send `event` to the channel-layer `group`. `event` may be a zero-argument callable that builds
    the event (renders fragments) after commit; returning None sends nothing."""
    transaction.on_commit(lambda: send_now(group, event), robust=True)


def send_now(group: str, event: Event | Callable[[], Event | None], *, attempt: int = 0) -> None:
    """Send at once, from sync code in any thread; failures are logged, never raised. A builder the database failed
    (a dropped connection, a restart) is tried again BUILD_RETRY_SECONDS later in a thread of its own, so a reader
    whose socket stayed open still gets a comment saved while the database blinked."""
    try:
        if callable(event):
            try:
                event = event()
            except (OperationalError, InterfaceError):
                _build_again_later(group, event, attempt=attempt)
                return
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


BUILD_RETRY_SECONDS = (1, 2, 4, 8, 16)  # about half a minute in all: a database restart, a failover


def _build_again_later(group: str, build: Callable[[], Event | None], *, attempt: int) -> None:
    if attempt >= len(BUILD_RETRY_SECONDS):
        log.warning("live update to %s not built after %s tries; readers see it when they reconnect or reload",
                    group, attempt + 1, exc_info=True)
        return
    log.info("live update to %s not built (database); trying again in %s s", group, BUILD_RETRY_SECONDS[attempt],
             exc_info=True)

    def again() -> None:
        try:
            send_now(group, build, attempt=attempt + 1)
        finally:
            connections.close_all()  # the timer thread's own connections

    timer = threading.Timer(BUILD_RETRY_SECONDS[attempt], again)
    timer.daemon = True
    timer.start()


def broadcast_coalesced(group: str, key: str, build: Callable[[], Event | None], *, window: float) -> None:
    """After commit, send what `build()` returns to `group` at most once per `window` seconds per `key`, rendered
    `window` seconds after the first commit of the window (so it shows every commit of the window), on the
    server's event loop. Coalesced across processes through the cache (Redis)."""
    transaction.on_commit(lambda: _coalesce(group, key, build, window), robust=True)


def _coalesce(group: str, key: str, build: Callable[[], Event | None], window: float) -> None:
    loop = _server_loop
    if window <= 0 or loop is None or loop.is_closed() or not loop.is_running():
        send_now(group, build)
        return
    flag = f"live:coalesce:{key}"
    now = time.monotonic()
    with _scheduled_lock:
        if _scheduled.get(flag, 0.0) > now:
            return  # this process's own send is due, and reads the database after this commit: no round trip
    try:
        if not cache.add(flag, 1, timeout=int(window) + 5):
            return  # a send is due (perhaps another process's) and reads the database after this commit
    except Exception:  # noqa: BLE001 — no cache: this commit sends its own update
        log.warning("live update to %s not coalesced", group, exc_info=True)
        send_now(group, build)
        return
    with _scheduled_lock:
        # Until the send opens the next window (it deletes the flag first, then builds), a commit here rides along.
        _scheduled[flag] = now + window
        for stale in [k for k, due in _scheduled.items() if due <= now]:
            del _scheduled[stale]
    asyncio.run_coroutine_threadsafe(_send_later(group, flag, build, window), loop)


async def _send_later(group: str, flag: str, build: Callable[[], Event | None], window: float) -> None:
    await asyncio.sleep(window)
    try:
        event = await sync_to_async(_build_closing, thread_sensitive=False)(flag, build)
    except Exception:  # noqa: BLE001 — a live update is best-effort
        log.warning("live update to %s was not built", group, exc_info=True)
        return
    if event is not None:
        await send_async(group, event)


def _build_closing(flag: str, build: Callable[[], Event | None]) -> Event | None:
    try:
        with _scheduled_lock:
            _scheduled.pop(flag, None)
        cache.delete(flag)  # commits from here on open the next window, so none is missed
        return build()
    finally:
        connections.close_all()  # this executor thread's own connections


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


__all__ = ["broadcast", "broadcast_coalesced", "send_now", "send_async", "server_loop_remember"]
