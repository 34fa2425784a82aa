"""One Redis connection pool per worker process, not one connection per request.

Django keeps a cache object per request context under ASGI (its caches are context-local), and Django's RedisCache
builds its connection pool per cache object: so each request opened a new TCP connection to Redis (a handshake and
two CLIENT SETINFO round trips before its first command), and the outage back-off was forgotten between requests.
"""

from __future__ import annotations

import os
import urllib.request

import pytest
import redis
from django.conf import settings as django_settings

from tests.portal.hardening.conftest import PortalServer, database_url

REQUESTS = 30


def _connections_received(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("stats")["total_connections_received"])
    finally:
        client.close()


@pytest.mark.django_db(transaction=True)
def test_requests_share_one_redis_pool_per_worker(private_redis, contracts):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "PORT", "REDIS_URL")}
    env.update(DEBUG="1", DATABASE_URL=database_url(), CHAIN_RPC_URL=django_settings.PORTAL["CHAIN_RPC_URL"],
               REDIS_URL=private_redis.url, LOYALTY_TOKEN_ADDRESS=contracts["LoyaltyToken"])
    server = PortalServer(env=env)
    server.start()
    try:
        def get(path: str) -> int:
            with urllib.request.urlopen(server.url + path, timeout=30) as answer:
                answer.read()
                return answer.status

        assert get("/proposals/") == 200  # the first request opens the worker's pool
        before = _connections_received(private_redis.url)
        statuses = [get("/proposals/") for _ in range(REQUESTS)]
        opened = _connections_received(private_redis.url) - before - 1  # less the INFO client's own
    finally:
        server.kill()
    assert statuses == [200] * REQUESTS
    # Requests one after another reuse the pooled connection (a few may open while another is in use).
    assert opened <= 3, f"{REQUESTS} requests opened {opened} new Redis connections"


def test_an_outage_seen_in_one_request_is_known_to_the_next(settings, private_redis):
    """The back-off after a failed call is the process's, not one cache object's: the next request context (a new
    cache object) does not try the dead Redis again within RETRY_SECONDS."""
    from django.core.cache import caches

    from portal import cache as portal_cache

    settings.CACHES = {"default": {"BACKEND": "portal.cache.DegradingRedisCache", "LOCATION": private_redis.url,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    first = caches.create_connection("default")
    first.set("probe", "shared")
    second = caches.create_connection("default")
    assert second.get("probe") == "shared" and second._cache is first._cache  # one client, one pool
    assert second._cache.get_client(write=True) is first._cache.get_client()  # one redis.Redis, not one a call
    private_redis.stop()
    assert first.get("probe") is None and first.degraded  # the failed call falls back to this process's memory
    later = caches.create_connection("default")
    assert later.degraded  # so the next request's cache skips Redis for RETRY_SECONDS
    later.set("during", "the outage")
    assert first.get("during") == "the outage"  # and the fallback memory is shared too
    assert portal_cache.RETRY_SECONDS > 0
