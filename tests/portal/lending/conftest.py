"""Lending fixtures: portal users holding the seeded dev wallets, and the pool and feeds as web3 contracts."""

from __future__ import annotations

import pytest

from governance.deploy import contract


@pytest.fixture
def borrower(make_user, contracts, dev_accounts):
    """Anvil #3's portal user: 2 WETH + 0.1 WBTC against 9,000 DUSD, health factor about 1.08."""
    return make_user(dev_accounts[3].address)


@pytest.fixture
def comfortable(make_user, contracts, dev_accounts):
    """Anvil #2's portal user: 20 WETH against 25,000 DUSD, health factor about 2.08."""
    return make_user(dev_accounts[2].address)


@pytest.fixture
def pool(node, contracts):
    return contract(node, "LendingPool", contracts["LendingPool"])


@pytest.fixture
def weth_feed(node, contracts):
    return contract(node, "DemoPriceOracle", contracts["DemoPriceOracle"])


@pytest.fixture
def set_price(minter, transact):
    """`set_price(feed, usd)`: a new round on a demo feed (8 decimals)."""
    from decimal import Decimal

    def set_(feed, usd):
        transact(minter, feed, "setPrice", int(Decimal(str(usd)) * 10**8))

    return set_
