"""The portal's cache on a private redis-server (tests/conftest.py's `private_redis`), and a frozen clock."""

from __future__ import annotations

import pytest
import time_machine


@pytest.fixture
def redis_cache(settings, private_redis, monkeypatch):
    """The portal's cache on the private Redis, retrying Redis on every call (no back-off window) for the test."""
    from portal import cache as portal_cache

    monkeypatch.setattr(portal_cache, "RETRY_SECONDS", 0.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.DegradingRedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return private_redis


@pytest.fixture
def frozen_clock():
    """Time stands still, so a run of requests never straddles two rate-limit windows."""
    with time_machine.travel(1_800_000_000, tick=False):
        yield
