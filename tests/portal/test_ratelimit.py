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
