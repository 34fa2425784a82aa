"""Fixed-window rate limits kept in the cache, so they are shared across processes when REDIS_URL is set.

While Redis is down the cache backend (portal/cache.py) counts in this process's memory and logs it, so limits
still hold per worker. Per-IP limits count `client_ip(request)`: X-Forwarded-For is believed only from TRUSTED_PROXIES.
"""

import time
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.core.cache import cache
from python_ipware.modern.parsers import split_proxy_chain

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
    """The address the rate limits count: the peer itself, unless the peer is one of TRUSTED_PROXIES; then the
    nearest X-Forwarded-For hop that is not one of our proxies (each proxy appends the address it saw, so hops
    further left were written by the client and are never believed)."""
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = trusted_proxies(tuple(settings.TRUSTED_PROXIES))
    if not proxies or not _is_proxy(remote, proxies):
        return remote
    # python-ipware parses the header (ports, brackets, RFC 7239 tokens, junk skipped).
    hops = split_proxy_chain(request.META.get("HTTP_X_FORWARDED_FOR", ""), strict=False) or []
    for hop in reversed(hops):
        if not any(hop in network for network in proxies):
            return str(hop)
    return str(hops[0]) if hops else remote


@lru_cache(maxsize=8)
def trusted_proxies(entries: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    """TRUSTED_PROXIES as networks (a bare address is a /32 or /128). Raises ValueError on an entry that is not."""
    return tuple(ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _is_proxy(address: str, proxies) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)
