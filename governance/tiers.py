"""Loyalty tiers: thresholds on an account's current weight, cached with a short TTL."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    slug: str
    name: str
    rank: int


def loyalty_tier(address: str) -> Tier | None:
    """The address's tier, or None below the lowest threshold or when the chain cannot be read."""
    return None
