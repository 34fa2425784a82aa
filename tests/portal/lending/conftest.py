"""Lending fixtures: portal users holding the seeded dev wallets (the pool and feeds are tests/conftest.py's)."""

from __future__ import annotations

import pytest


@pytest.fixture
def borrower(make_user, contracts, dev_accounts):
    """Anvil #3's portal user: 2 WETH + 0.1 WBTC against 9,000 DUSD, health factor about 1.08."""
    return make_user(dev_accounts[3].address)


@pytest.fixture
def comfortable(make_user, contracts, dev_accounts):
    """Anvil #2's portal user: 20 WETH against 25,000 DUSD, health factor about 2.08."""
    return make_user(dev_accounts[2].address)
