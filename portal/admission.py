"""Admission control: at most REQUEST_CONCURRENCY requests run at once in a worker process; the rest wait in line.

Without it every request a worker accepts starts at once and asks the database pool for a connection: at 200
clients most of them waited past DB_POOL_TIMEOUT (or SQLite's lock timeout) and answered 503. With it a worker runs
REQUEST_CONCURRENCY requests (default 8, below DB_POOL_MAX_SIZE, so each admitted request gets a pooled connection
without waiting and the pool keeps two for the live-update renders and sockets that run outside requests); the
others wait on the event loop, holding neither a thread nor a connection, and each starts as one finishes. A request
that waited REQUEST_QUEUE_TIMEOUT seconds answers 503 with Retry-After and the PORTAL_BUSY sentence (JSON under
/api/, the site's refusal page elsewhere) and has written nothing. Static files and websockets are not counted,
and a streamed body (an open proposal's export) is sent after its request has given back its slot.

The middleware is async only (`sync_capable = False`). A middleware capable of both runs in the mode of the one
below it, and Django's own middleware below is sync, so under ASGI it would wait in a thread per request; async, it
waits on the server's event loop, and Django runs the rest of the chain in the request's thread as it would anyway.
Under a sync (WSGI) handler Django adapts it, one event loop per request, so the cap holds only under ASGI — the
way the portal is served.
"""

from __future__ import annotations

import asyncio
import weakref

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from portal.errors import PORTAL_BUSY, Unavailable, error_page

RETRY_AFTER_SECONDS = 5  # a queue that stayed full this long usually drains within a few seconds


class Line:
    """The requests of one event loop: `running` were admitted (at most `size`), `waiting` are in line."""

    def __init__(self, size: int):
        self.size = size
        self.slots = asyncio.Semaphore(size)
        self.running = 0
        self.waiting = 0


# One line per event loop and cap: uvicorn runs one loop per worker process; tests start a loop per test and may
# change REQUEST_CONCURRENCY.
_lines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, Line]] = weakref.WeakKeyDictionary()


def admission_line() -> Line:
    """The line of the running event loop for the current REQUEST_CONCURRENCY."""
    size = settings.REQUEST_CONCURRENCY
    lines = _lines.setdefault(asyncio.get_running_loop(), {})
    if size not in lines:
        lines[size] = Line(size)
    return lines[size]


def check_cap_fits_the_pool() -> None:
    """Raises ImproperlyConfigured, with a sentence, when REQUEST_CONCURRENCY exceeds the connection pool: the
    requests past the pool would be admitted only to wait for a connection and answer 503. Called when a server
    builds its middleware, so task workers and the sampler (no requests) may run with a smaller pool."""
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    size = pool.get("max_size") if isinstance(pool, dict) else None
    if size is not None and settings.REQUEST_CONCURRENCY > size:
        raise ImproperlyConfigured(
            f"REQUEST_CONCURRENCY is {settings.REQUEST_CONCURRENCY} but DB_POOL_MAX_SIZE is {size}: a worker would"
            " run more requests at once than it has database connections, and the extra ones would wait for the pool"
            " and answer 503. Set REQUEST_CONCURRENCY at most DB_POOL_MAX_SIZE (a little below leaves room for live"
            " updates)."
        )


def is_counted(request: HttpRequest) -> bool:
    """Static files (served by WhiteNoise from memory, no database) pass without a slot."""
    static = settings.STATIC_URL or ""
    return not (static.startswith("/") and request.path_info.startswith(static))


class AdmissionMiddleware:
    """Caps the requests this worker runs at once (REQUEST_CONCURRENCY); see the module docstring. Put it first in
    MIDDLEWARE, so a waiting request has not yet touched the session, the user or the database."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        check_cap_fits_the_pool()
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_counted(request):
            return await self.get_response(request)
        line = admission_line()
        line.waiting += 1
        try:
            async with asyncio.timeout(settings.REQUEST_QUEUE_TIMEOUT):
                await line.slots.acquire()
        except TimeoutError:
            busy = Unavailable(PORTAL_BUSY, retry_after=RETRY_AFTER_SECONDS)
            return await sync_to_async(error_page)(request, busy)  # the page is rendered by sync template code
        finally:
            line.waiting -= 1
        line.running += 1
        try:
            return await self.get_response(request)
        finally:
            line.running -= 1
            line.slots.release()
