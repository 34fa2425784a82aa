"""The shared cache, degrading instead of failing: Redis when it answers, this process's memory when it does not.

With REDIS_URL set, the cache (tier weights, rate-limit counters, snapshot weights) lives in Redis. When Redis is
down every call that would raise falls back to a local-memory cache in this process, and the fall-back is logged
once per outage: tiers are read without the shared cache, and rate limits count per process (each worker keeps its
own budget) until Redis answers again. A failed call makes the next ones skip Redis for `RETRY_SECONDS`, so an
outage costs one refused connection every few seconds instead of one per cache call.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TypeVar

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connection
from django.utils import timezone
from redis.exceptions import NoScriptError, RedisError

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0
CACHE_ERRORS = (RedisError, OSError)
_COUNT_SCRIPT = ("local n = redis.call('INCR', KEYS[1]) "
                 "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n")
_COUNT_SHA = hashlib.sha1(_COUNT_SCRIPT.encode()).hexdigest()
# A versioned entry is only read under its version, so this bounds no staleness: it only lets entries of versions
# nobody asks for any more (and of templates a deploy changed) leave the cache.
VERSIONED_SECONDS = 600

T = TypeVar("T")


def database_version(sql: str, params: list | tuple = (), *, sqlite_reader: bool = False) -> str:
    """One row of aggregates read in plain SQL, joined into a version string for `cached_version`'s key. Plain SQL
    because such a read runs on every page view: the ORM takes longer to compile it than the database to answer.
    `sqlite_reader`: as `database_row`'s."""
    return "|".join(f"{value}" for value in database_row(sql, params, sqlite_reader=sqlite_reader))


def database_row(sql: str, params: list | tuple = (), *, sqlite_reader: bool = False) -> tuple | None:
    """The first row `sql` answers (None when none), read in plain SQL.

    `sqlite_reader`: on SQLite, outside a transaction, read through this process's one kept-open reader connection
    (`_sqlite_reader`) instead of the request's own, so a page that needs nothing else from the database opens none
    (a fresh SQLite connection reads the whole schema: ~2 ms, more than the bare request). Only for `%s` parameters
    that SQLite takes as they are (numbers, booleans, text): Django's own conversions (datetimes) are not applied,
    so pass `connection.ops.adapt_datetimefield_value(...)` for a datetime."""
    if sqlite_reader and connection.vendor == "sqlite" and not connection.in_atomic_block:
        reader = _sqlite_reader(connection.settings_dict["NAME"])
        if reader is not None:
            try:
                with _reader_lock:
                    return reader.execute(sql.replace("%s", "?"), params).fetchone()
            except sqlite3.Error:  # a fault of the kept connection: drop it, and read as any query does
                log.warning("the SQLite reader connection failed; reading through the request's", exc_info=True)
                with _reader_lock:
                    _readers.clear()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


_reader_lock = threading.Lock()
_readers: dict[tuple[str, int], sqlite3.Connection] = {}


def _sqlite_reader(name) -> sqlite3.Connection | None:
    """A connection to the database file `name` that only reads, kept per process (and per file: a file made anew gets a
    new one), in autocommit so each statement sees the latest commit; None for an in-memory database, which another
    connection would not see."""
    name = str(name)
    if name == ":memory:" or name.startswith("file:"):
        return None
    try:
        key = (name, os.stat(name).st_ino)
    except OSError:
        return None
    with _reader_lock:
        if key not in _readers:
            _readers[key] = sqlite3.connect(name, isolation_level=None, check_same_thread=False, timeout=20)
        return _readers[key]


def versioned_key(prefix: str, *parts: object, minute_seconds: int | None = None) -> str:
    """A `cached_version` key: `prefix` and a digest of `parts` (the version of what the value shows and whatever
    else selects it), with the current window of `minute_seconds` when the value also moves with the clock ("closes
    in 3 days", today's uptime bar), so such words are never older than the window."""
    if minute_seconds:
        parts = (*parts, int(timezone.now().timestamp() // minute_seconds))
    digest = hashlib.sha256("|".join(f"{part}" for part in parts).encode()).hexdigest()[:24]
    return f"{prefix}:{digest}"


def window_count(key: str, timeout: int) -> int:
    """Add one to the counter `key`, made with `timeout` seconds to live by the first call, and return the count:
    a rate limit's window. One round trip on Redis (DegradingRedisCache.count), else add-then-incr."""
    counting = getattr(cache, "count", None)
    if counting is not None:
        return counting(key, timeout)
    return _add_and_incr(cache, key, timeout)


def _add_and_incr(backend, key: str, timeout: int) -> int:
    backend.add(key, 0, timeout=timeout)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, timeout=timeout)
        return 1


# `cached_version(..., local=True)`: the last values read, by key, in this process (a versioned key names one value,
# so a copy here is as fresh as the shared one); a bounded few, since only the current versions are asked for — the
# status page, summary.json, the list's pages and filters, each proposal's parts, the board's listings: a few MB.
LOCAL_ENTRIES = 64
_local_values: OrderedDict[str, object] = OrderedDict()
_local_lock = threading.Lock()


def cached_version(key: str, build: Callable[[], T], *, timeout: int = VERSIONED_SECONDS, local: bool = False) -> T:
    """`build()`'s value, kept in the shared cache under `key`. The caller puts in `key` a version of everything the
    value shows (read from the database, so a change shows at once) and nothing of one reader's own. The cache
    failing in any way costs a rebuild, never the page. `local`: also keep it in this process, and read it from
    there first (for a large value read on every request: a Redis round trip and unpickling saved)."""
    if local:
        with _local_lock:
            if key in _local_values:
                _local_values.move_to_end(key)
                return _local_values[key]
    try:
        value = cache.get(key)
    except Exception:  # noqa: BLE001 — any cache fault (a dead Redis, a stale pickle) means: build it again
        log.warning("cache read of %s failed; building it", key, exc_info=True)
        value = None
    if value is None:
        value = build()
        try:
            cache.set(key, value, timeout)
        except Exception:  # noqa: BLE001 — as above: the value is served uncached
            log.warning("cache write of %s failed", key, exc_info=True)
    if local:
        with _local_lock:
            _local_values[key] = value
            while len(_local_values) > LOCAL_ENTRIES:
                _local_values.popitem(last=False)
    return value


def forget_local() -> None:
    """Empty this process's copies of `cached_version(..., local=True)` (as `cache.clear()` empties the shared one)."""
    with _local_lock:
        _local_values.clear()


def page_holes(*names: str) -> dict[str, str]:
    """A fresh random marker per per-request part of a page (a CSRF token, the time): rendered where the part goes,
    then cut out by `page_pieces`. Random per rendering, so no text a user wrote can pass for one."""
    return {name: f"hole-{secrets.token_hex(16)}-{name}" for name in names}


def page_pieces(page: str, holes: Mapping[str, str]) -> list[str]:
    """`page` cut at its `holes`: its text at even places, the name of the part each hole stands for at odd ones;
    kept in the cache and filled per request by `page_filled`."""
    names = {marker: name for name, marker in holes.items()}
    pieces = re.split("(" + "|".join(map(re.escape, names)) + ")", page)
    return [piece if n % 2 == 0 else names[piece] for n, piece in enumerate(pieces)]


def page_filled(pieces: list[str], parts: Mapping[str, str]) -> str:
    """The page of `page_pieces` with this request's `parts` (by name) in its holes."""
    return "".join(piece if n % 2 == 0 else parts[piece] for n, piece in enumerate(pieces))


def signed_out_reader(request) -> bool:
    """True for a reader whose whole page may come from a shell (`signed_out_shell`): signed out, with no message
    waiting (a message is shown once, so that page is rendered for them)."""
    from django.contrib import messages

    return not request.user.is_authenticated and not len(messages.get_messages(request))


def signed_out_shell(request, template: str, context: dict, holes: Mapping[str, str]) -> list[str]:
    """`template` as a signed-out reader without messages sees it, cut at `holes` (`page_holes`, one of them
    "csrf_token"): the context processors' values over the view's `context`, as a RequestContext would give them,
    with the CSRF token's hole and no messages. The request stands only for the layout's current section, so nothing
    of the reader who primed it is in the shell; fill it per request with `page_filled`."""
    from django.template import engines
    from django.template.loader import render_to_string

    context = dict(context)
    for processor in engines["django"].engine.template_context_processors:
        context.update(processor(request))
    context.update(csrf_token=holes["csrf_token"], messages=())
    return page_pieces(render_to_string(template, context), holes)


def signed_out_page(request, key: str, template: str, context: Callable[[Mapping[str, str]], dict], *,
                    timeout: int, fill: Mapping[str, Callable[[], str]] | None = None):
    """The whole page of `template` for a `signed_out_reader`, its shell (`signed_out_shell` of `context(holes)`)
    kept under `key` and the script prefix, in the shared cache and this process, and filled per request with the
    reader's CSRF token and `fill`'s values (each name a hole of its own, its function called per request)."""
    from django.http import HttpResponse
    from django.middleware.csrf import get_token
    from django.urls import get_script_prefix

    fill = fill or {}
    holes = page_holes("csrf_token", *fill)
    pieces = cached_version(f"{key}:page:{get_script_prefix()}", timeout=timeout, local=True,
                            build=lambda: signed_out_shell(request, template, context(holes), holes))
    values = {"csrf_token": get_token(request), **{name: value() for name, value in fill.items()}}
    return HttpResponse(page_filled(pieces, values))


class _Client(RedisCacheClient):
    """Django's RedisCacheClient keeping one redis.Redis per pool: Django makes a new one for every cache call, and
    each builds its table of some 170 response callbacks (about 70 µs, more than a round trip to a local Redis)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._redis_clients.get(index)
        if client is None:  # two threads may both make one: either serves (a client is only its pool and options)
            client = self._redis_clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class _Location:
    """What one process keeps of one Redis cache location, shared by every cache object on it: Django makes a cache
    object per request context under ASGI (its caches are context-local) and RedisCache builds its connection pool per
    object, so without this each request opened a new connection to Redis (a TCP handshake and CLIENT SETINFO round
    trips before its first command) and the outage back-off was forgotten from one request to the next."""

    def __init__(self, server):
        self.local = LocMemCache(f"degraded:{server}", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
        self.lock = threading.Lock()
        self.client = None  # Django's RedisCacheClient (its pools), made by the first cache object that needs it
        self.down_until = 0.0
        self.outage_logged = False


_LOCATIONS: dict[str, _Location] = {}
_LOCATIONS_LOCK = threading.Lock()


class DegradingRedisCache(RedisCache):
    """Django's RedisCache whose operations run on a per-process LocMemCache while Redis cannot be reached; one
    client (one connection pool) and one outage state per location in each process."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client
        key = f"{self._servers!r}|{sorted(self._options.items())!r}"
        with _LOCATIONS_LOCK:
            self._shared = _LOCATIONS.get(key) or _LOCATIONS.setdefault(key, _Location(server))
        self._local = self._shared.local

    @property
    def _cache(self):
        shared = self._shared
        if shared.client is None:
            with shared.lock:
                if shared.client is None:
                    shared.client = self._class(self._servers, **self._options)
        return shared.client

    @property
    def degraded(self) -> bool:
        """True while the last Redis call failed less than RETRY_SECONDS ago (in any request of this process)."""
        return time.monotonic() < self._shared.down_until

    def _failed(self, operation: str, exc: Exception) -> None:
        shared = self._shared
        with shared.lock:
            shared.down_until = time.monotonic() + RETRY_SECONDS
            first = not shared.outage_logged
            shared.outage_logged = True
        if first:
            log.warning(
                "Redis cache unavailable (%s during %s): using this process's memory for the cache and "
                "rate-limit counters until it answers again",
                exc, operation,
            )

    def _recovered(self) -> None:
        shared = self._shared
        if shared.outage_logged:
            with shared.lock:
                first, shared.outage_logged = shared.outage_logged, False
            if first:
                log.warning("Redis cache answers again: shared cache and rate limits restored")

    def _run(self, operation: str, *args, **kwargs):
        if not self.degraded:
            try:
                result = getattr(super(), operation)(*args, **kwargs)
            except CACHE_ERRORS as exc:
                self._failed(operation, exc)
            else:
                self._recovered()
                return result
        return getattr(self._local, operation)(*args, **kwargs)

    def count(self, key: str, timeout: int) -> int:
        """`window_count` in one round trip and one command: a script that INCRs the counter and, on the first hit,
        gives it the window's TTL, run atomically by Redis, so the count and its expiry are never apart (cheaper for
        the client than MULTI/SET NX EX/INCR/EXEC, which every rate-limited request paid)."""
        if not self.degraded:
            try:
                client = self._cache.get_client(key, write=True)
                name = self.make_and_validate_key(key)
                try:
                    used = client.evalsha(_COUNT_SHA, 1, name, timeout)
                except NoScriptError:  # a Redis that has not seen the script yet (a restart, a flush): send it
                    used = client.eval(_COUNT_SCRIPT, 1, name, timeout)
            except CACHE_ERRORS as exc:
                self._failed("count", exc)
            else:
                self._recovered()
                return int(used)
        return _add_and_incr(self._local, key, timeout)

    def add(self, *args, **kwargs):
        return self._run("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._run("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._run("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._run("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._run("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._run("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._run("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._run("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._run("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._run("delete_many", *args, **kwargs)

    def clear(self):
        self._local.clear()
        return self._run("clear")
