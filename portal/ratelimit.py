"""Fixed-window rate limits kept in the cache, so they are shared across processes when REDIS_URL is set."""

import time
from dataclasses import dataclass

from django.core.cache import cache

from portal.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    per_seconds: int

    def hit(self, key: str, *, message: str | None = None) -> None:
        """Count one action for `key`; raise RateLimited once the window's budget is spent."""
        window = int(time.time()) // self.per_seconds
        cache_key = f"rl:{self.scope}:{key}:{window}"
        cache.add(cache_key, 0, timeout=self.per_seconds + 1)
        try:
            used = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=self.per_seconds + 1)
            used = 1
        if used > self.count:
            retry_after = self.per_seconds - int(time.time()) % self.per_seconds
            raise RateLimited(
                message or f"Too many requests. Please wait {retry_after} seconds and try again.", retry_after
            )


def client_ip(request) -> str:
    # Behind the reverse proxy of the README the real address is the last hop it appends.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[-1].strip() if forwarded else request.META.get("REMOTE_ADDR", "unknown")
