"""Fixed-window rate limits kept in the cache, so they are shared across processes when REDIS_URL is set.

While Redis is down the cache backend (portal/cache.py) counts in this process's memory and logs it, so limits
still hold per worker. Per-IP limits count `client_ip(request)`: X-Forwarded-For is believed only from TRUSTED_PROXIES.
"""

import hashlib
import time
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from python_ipware.modern.parsers import split_proxy_chain

from portal.cache import window_count
from portal.errors import RateLimited


def _short(key: str) -> str:
    """The key as it goes into a cache key: itself when short and plain, else its sha256 (an e-mail address can be
    254 characters with spaces in its quoted part; cache keys are at most 250 printable characters without spaces)."""
    if len(key) <= 100 and key.isprintable() and " " not in key:
        return key
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    per_seconds: int

    def hit(self, key: str, *, message: str | None = None) -> None:
        """Count one action for `key`; raise RateLimited once the window's budget is spent. `message` may name
        `{count}` (the budget) and `{s}` (its plural s), `{per}` ("minute", "hour", "30 seconds") and `{wait}`
        ("40 seconds", "12 minutes"), so the sentence says the number and the time to wait."""
        window = int(time.time()) // self.per_seconds
        cache_key = f"rl:{self.scope}:{_short(key)}:{window}"
        used = window_count(cache_key, self.per_seconds + 1)  # one round trip on Redis
        if used > self.count:
            retry_after = self.per_seconds - int(time.time()) % self.per_seconds
            text = message or "Too many requests. Please wait {wait} and try again."
            raise RateLimited(
                text.format(count=self.count, s="" if self.count == 1 else "s", per=_duration(self.per_seconds, one=True), wait=_duration(retry_after)),
                retry_after,
            )


def _duration(seconds: int, *, one: bool = False) -> str:
    """40 → "40 seconds", 60 → "1 minute" ("minute" with `one`), 61 → "2 minutes", 3600 → "1 hour"."""
    for size, unit in ((3600, "hour"), (60, "minute")):
        if seconds >= size and (seconds % size == 0 or size == 60):
            amount = -(-seconds // size)  # rounded up: never tell anyone to wait less than they must
            break
    else:
        amount, unit = seconds, "second"
    if one and amount == 1:
        return unit
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


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
