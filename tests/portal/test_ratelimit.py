"""The rate limit's cache keys: any key a caller counts by (an e-mail address, a wallet, an IP) makes a valid one."""

import warnings

import pytest
from django.core.cache import CacheKeyWarning

from portal.errors import RateLimited
from portal.ratelimit import Limit


@pytest.mark.parametrize("key", [
    '"' + "a very long quoted local part " * 8 + '"@example.org',  # 254 characters, spaces included
    "tab\tand\nnewline@example.org",
    "ünïcödé@例え.jp",
])
def test_a_long_or_spaced_key_still_counts_and_makes_a_valid_cache_key(key):
    limit = Limit(scope="test-keys", count=2, per_seconds=60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        limit.hit(key)
        limit.hit(key)
        with pytest.raises(RateLimited):
            limit.hit(key)
    limit.hit(key + "x")  # another key has its own budget


def test_on_redis_a_hit_is_one_command_and_the_window_expires(settings, private_redis):
    """On Redis a hit is one command (a script that increments the counter and gives a new one the window's TTL,
    atomically): no separate add, exists and incr round trips, and a counter never lives without its expiry. A Redis
    that lost the script (restarted, flushed) is sent it again, and the count goes on."""
    import redis
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "portal.cache.DegradingRedisCache", "LOCATION": private_redis.url}}
    limit = Limit(scope="test-redis", count=3, per_seconds=60)
    raw = redis.Redis.from_url(private_redis.url)
    limit.hit("0xabc")  # the pool's first connection
    before = raw.info("commandstats")
    limit.hit("0xabc")
    after = raw.info("commandstats")
    sent = {name: stats["calls"] - before.get(name, {"calls": 0})["calls"] for name, stats in after.items()}
    # the script's EVALSHA (INFO is this test's own); none of MULTI, SET, EXEC, nor a second INCR round trip
    assert {name for name, calls in sent.items() if calls} - {"cmdstat_info", "cmdstat_incr"} == {"cmdstat_evalsha"}
    assert sent["cmdstat_evalsha"] == 1
    raw.script_flush()
    limit.hit("0xabc")  # NOSCRIPT: sent again with EVAL, counted once
    with pytest.raises(RateLimited):
        limit.hit("0xabc")
    [key] = raw.keys("*rl:test-redis:0xabc:*")
    assert raw.get(key) == b"4" and 0 < raw.ttl(key) <= 61
    assert caches["default"].get(key.decode().split(":", 2)[-1]) == 4  # Django's own reads see the count
    raw.close()
