"""Loyalty tiers: thresholds on an account's current weight (the default strategies at the head block).

Thresholds come from PORTAL["TIERS"] (a list of {"slug", "name", "threshold"}; default Bronze 100, Silver 1,000,
Gold 10,000 tokens). Weights are cached per address for PORTAL["TIER_CACHE_SECONDS"] (default 60), so a page full of
addresses costs the chain nothing after the first view; a failed read is cached briefly so a dead node cannot slow
every page down.

A rendered page asks for its addresses once: inside `standings_batch()` (every request is one, through
TierBatchMiddleware) a view or fragment builder hands the addresses it is about to show to `standings_prefetch`
(one cache round trip, one multicall for the misses), and each `{% wallet %}` tag then reads from that batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from governance.chain import ChainUnavailable, chain
from governance.strategies import checksum, default_strategies, voting_weights
from portal.conf import portal_settings

log = logging.getLogger(__name__)

FAILURE_CACHE_SECONDS = 10
_UNKNOWN = "?"
_CHAIN_DOWN_KEY = "loyalty-weight:chain-down"
# The standings a page has looked up so far (checksummed address → Standing); None outside standings_batch().
_page_standings: ContextVar[dict[str, Standing] | None] = ContextVar("page_standings", default=None)


@dataclass(frozen=True)
class Tier:
    slug: str
    name: str
    rank: int  # 1 = the lowest tier
    threshold: Decimal = Decimal(0)


@dataclass(frozen=True)
class Standing:
    """An address's current weight (None when it could not be read), its tier and the next one up."""

    address: str
    weight: Decimal | None
    tier: Tier | None
    next_tier: Tier | None


def tiers() -> list[Tier]:
    """The configured tiers, lowest threshold first."""
    configured = portal_settings().tier_table()
    ordered = sorted(configured, key=lambda item: Decimal(str(item["threshold"])))
    return [
        Tier(slug=item["slug"], name=item["name"], rank=rank, threshold=Decimal(str(item["threshold"])))
        for rank, item in enumerate(ordered, start=1)
    ]


def tier_for(weight: Decimal | None) -> Tier | None:
    """The highest tier whose threshold `weight` reaches; None below the lowest or when unknown."""
    if weight is None:
        return None
    reached = [tier for tier in tiers() if weight >= tier.threshold]
    return reached[-1] if reached else None


def loyalty_tier(address: str) -> Tier | None:
    """The address's tier, or None below the lowest threshold or when the chain cannot be read."""
    return loyalty_standing(address).tier


def loyalty_standing(address: str) -> Standing:
    """Weight, tier and next tier of one address (cached; from the page's batch inside standings_batch())."""
    key = _key_address(address)
    page = _page_standings.get()
    if page is not None and key in page:
        return page[key]
    found = loyalty_standings([address])
    if page is not None:
        page.update(found)
    return found.get(key) or Standing(address, None, None, None)


@contextmanager
def standings_batch(addresses: Iterable[str | None] = ()) -> Iterator[None]:
    """Tier lookups inside share one batch per rendering; `addresses` are fetched up front. Nested batches join
    the outer one."""
    token = _page_standings.set({}) if _page_standings.get() is None else None
    try:
        standings_prefetch(addresses)
        yield
    finally:
        if token is not None:
            _page_standings.reset(token)


def standings_prefetch(addresses: Iterable[str | None]) -> None:
    """Look up, in one batch, the addresses a rendering is about to show (None and non-addresses are skipped);
    a no-op outside standings_batch()."""
    page = _page_standings.get()
    if page is None:
        return
    wanted = [a for a in addresses if a and _key_address(a) not in page]
    if wanted:
        page.update(loyalty_standings(wanted))


class TierBatchMiddleware:
    """Each request renders inside one standings_batch(): the page's wallets share its lookups."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with standings_batch():
            return self.get_response(request)


def loyalty_standings(addresses: Iterable[str]) -> dict[str, Standing]:
    """Standings for many addresses: cached ones from the cache, the rest in one batched read. Keyed by checksummed
    address; strings that are not addresses are left out."""
    wanted = []
    for address in addresses:
        try:
            wanted.append(checksum(address))
        except ValueError:
            continue
    wanted = list(dict.fromkeys(wanted))
    cached = cache.get_many([_cache_key(address) for address in wanted])
    weights: dict[str, Decimal | None] = {}
    missing = []
    for address in wanted:
        value = cached.get(_cache_key(address))
        if value is None:
            missing.append(address)
        else:
            weights[address] = None if value == _UNKNOWN else Decimal(value)
    if missing:
        fresh = current_weights(missing)
        ttl = portal_settings().tier_cache_seconds
        found = {_cache_key(a): str(w) for a, w in fresh.items() if w is not None}
        failed = {_cache_key(a): _UNKNOWN for a, w in fresh.items() if w is None}
        if found:
            cache.set_many(found, ttl)
        if failed:
            cache.set_many(failed, min(ttl, FAILURE_CACHE_SECONDS))
        weights.update(fresh)
    return {address: _standing(address, weights.get(address)) for address in wanted}


def current_weights(addresses: list[str]) -> dict[str, Decimal | None]:
    """Weights now (default strategies at the head block), uncached; None for all when the chain cannot be read."""
    if cache.get(_CHAIN_DOWN_KEY):
        return dict.fromkeys(addresses)
    try:
        strategies = default_strategies()
        if not strategies:
            return dict.fromkeys(addresses)
        return voting_weights(
            strategies=strategies, snapshot_block=chain().block_number(), addresses=addresses
        )
    except ChainUnavailable as exc:
        log.info("loyalty tiers unavailable: %s", exc)
        cache.set(
            _CHAIN_DOWN_KEY, True, FAILURE_CACHE_SECONDS
        )  # one slow failure, not one per address on a page
        return dict.fromkeys(addresses)


def _standing(address: str, weight: Decimal | None) -> Standing:
    tier = tier_for(weight)
    higher = [t for t in tiers() if weight is not None and t.threshold > weight]
    return Standing(address=address, weight=weight, tier=tier, next_tier=higher[0] if higher else None)


def _key_address(address: str) -> str | None:
    try:
        return checksum(address)
    except ValueError:
        return None


def _cache_key(address: str) -> str:
    return f"loyalty-weight:{address.lower()}"
