"""Loyalty tiers from current weight on a real anvil: thresholds, configuration, the cache and its TTL."""

import time
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from governance.deploy import contract
from governance.devchain import free_port
from governance.tiers import loyalty_standing, loyalty_standings, loyalty_tier, tier_for, tiers

pytestmark = pytest.mark.chain


def test_default_thresholds(contracts, dev_accounts, stranger):
    # weights: 50,300 / 12,200 / 3,100 / 800 / 150 (tokens + 100 per badge)
    slugs = [getattr(loyalty_tier(a.address), "slug", None) for a in dev_accounts]
    assert slugs == ["gold", "gold", "silver", "bronze", "bronze"]
    assert loyalty_tier(stranger.address) is None
    assert [(t.slug, t.name, t.rank) for t in tiers()] == [
        ("bronze", "Bronze", 1),
        ("silver", "Silver", 2),
        ("gold", "Gold", 3),
    ]


def test_standing_has_weight_and_next_tier(contracts, dev_accounts):
    standing = loyalty_standing(dev_accounts[3].address.lower())
    assert standing.weight == Decimal(800)
    assert standing.tier.slug == "bronze" and standing.next_tier.slug == "silver"
    assert loyalty_standing(dev_accounts[0].address).next_tier is None


def test_thresholds_are_configurable(settings, contracts, dev_accounts):
    settings.PORTAL = {
        **settings.PORTAL,
        "TIERS": [
            {"slug": "member", "name": "Member", "threshold": "1"},
            {"slug": "patron", "name": "Patron", "threshold": "3100"},
        ],
    }
    assert [loyalty_tier(a.address).slug for a in dev_accounts] == [
        "patron",
        "patron",
        "patron",
        "member",
        "member",
    ]
    assert tier_for(Decimal("0.99")) is None and tier_for(None) is None
    assert tier_for(Decimal(3100)).rank == 2


def test_tiers_are_cached_until_the_ttl_passes(
    settings, node, contracts, minter, stranger, transact, chain_snapshot
):
    # The local-memory cache expires by the clock time-machine moves (Redis would keep its own clock).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PORTAL = {**settings.PORTAL, "TIER_CACHE_SECONDS": 60}
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    with time_machine.travel(timezone.now()) as clock:
        assert loyalty_tier(stranger.address) is None
        transact(minter, token, "mint", stranger.address, 20_000 * 10**18)
        clock.shift(55)
        assert loyalty_tier(stranger.address) is None  # still the cached weight
        clock.shift(6)
        assert loyalty_tier(stranger.address).slug == "gold"


def test_many_addresses_in_one_read(contracts, dev_accounts):
    addresses = [a.address for a in dev_accounts] + ["not an address"]
    standings = loyalty_standings(addresses)
    assert list(standings) == [a.address for a in dev_accounts]
    assert [s.weight for s in standings.values()] == [50_300, 12_200, 3_100, 800, 150]


def test_no_tier_when_the_chain_is_down(settings, contracts, dev_accounts):
    settings.PORTAL = {
        **settings.PORTAL,
        "CHAIN_RPC_URL": f"http://127.0.0.1:{free_port()}",
        "CHAIN_ID": 31337,
    }
    started = time.monotonic()
    assert [loyalty_tier(a.address) for a in dev_accounts] == [None] * 5
    assert time.monotonic() - started < 3  # one failed read, then the cached "chain down" answer


def test_no_tier_without_contracts(settings, dev_accounts, monkeypatch, tmp_path):
    monkeypatch.setenv("DEVCHAIN_DIR", str(tmp_path))  # no deployments file either
    settings.PORTAL = {key: value for key, value in settings.PORTAL.items() if key != "CONTRACTS"}
    assert loyalty_tier(dev_accounts[0].address) is None
    assert loyalty_tier("0x123") is None


def test_weight_partial_shows_weight_tier_and_next_tier(contracts, dev_accounts):
    from django.template.loader import render_to_string

    html = render_to_string(
        "governance/_weight.html", {"standing": loyalty_standing(dev_accounts[3].address)}
    )
    assert "<strong>800</strong> voting power" in html
    assert 'class="tier tier--bronze"' in html and "Silver tier from 1,000 voting power." in html
    html = render_to_string(
        "governance/_weight.html", {"standing": loyalty_standing(dev_accounts[0].address)}
    )
    assert "50,300" in html and "The highest loyalty tier." in html


def test_weight_partial_when_the_chain_is_down(dev_accounts):
    from django.template.loader import render_to_string

    from governance.tiers import Standing

    html = render_to_string(
        "governance/_weight.html", {"standing": Standing(dev_accounts[0].address, None, None, None)}
    )
    assert "cannot be read right now" in html


class _CountingCache:
    """The real cache, counting the round trips the tier lookups make."""

    def __init__(self, real):
        self.real, self.round_trips = real, 0

    def get_many(self, keys):
        self.round_trips += 1
        return self.real.get_many(keys)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_thread_page_reads_every_wallets_tier_in_one_batch(settings, contracts, dev_accounts, make_user, monkeypatch):
    from datetime import timedelta
    from http import HTTPStatus

    from django.core.cache import cache
    from django.test import Client

    from governance import tiers as tier_module
    from portal.discussion.services import comment_post, thread_create

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "one-batch"}}
    thread = thread_create(title="Tiers on a busy thread", category_slug="general", author=None)
    authors = [make_user(account.address, joined=timedelta(days=30)) for account in dev_accounts]
    first = comment_post(thread=thread, author=authors[0], body="First")
    for n, author in enumerate(authors[1:]):
        comment_post(thread=thread, author=author, body=f"Reply {n}", parent=first if n % 2 else None)
    reads: list[list[str]] = []
    real_reads = tier_module.current_weights
    monkeypatch.setattr(tier_module, "current_weights", lambda addresses: reads.append(addresses) or real_reads(addresses))
    counting = _CountingCache(cache)
    monkeypatch.setattr(tier_module, "cache", counting)

    cold = Client().get(thread.get_absolute_url())
    assert cold.status_code == HTTPStatus.OK
    # one cache round trip and one chain read (a multicall per strategy) for all five wallets
    assert counting.round_trips == 1 and len(reads) == 1 and set(reads[0]) == {a.address for a in dev_accounts}

    counting.round_trips, reads[:] = 0, []
    warm = Client().get(thread.get_absolute_url())
    assert counting.round_trips == 1 and reads == []  # cached: one MGET, no chain
    for page in (cold, warm):  # weights 50,300 / 12,200 / 3,100 / 800 / 150: two gold, a silver, two bronze
        html = page.content.decode()
        assert (html.count("tier--gold"), html.count("tier--silver"), html.count("tier--bronze")) == (2, 1, 2)
