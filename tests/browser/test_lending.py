"""A signed-in borrower sees their loan in plain words, and when the demo oracle's WETH price falls the card moves
live and an alert arrives (the sampler's tick reads the position, as `run_health_checks` does every few seconds)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from governance.deploy import contract
from portal.lending import selectors
from portal.lending.services import positions_tick

from .conftest import wait_for_socket

pytestmark = pytest.mark.browser


def test_a_borrower_sees_the_loan_and_is_alerted_when_the_price_falls(
    live_url, contracts, node, chain_snapshot, dev_accounts, minter, transact, signed_in_page, screenshot
):
    borrower = dev_accounts[3]
    page = signed_in_page(borrower)
    positions_tick(force=True)  # first reading: already under 1.1, so "liquidation is near" is known (and told)
    _market, (loan,) = selectors.loans_read(addresses=[borrower.address])
    weth = next(p for p in loan.prices if p.asset.symbol == "WETH")
    page.goto(live_url + "/")
    card = page.get_by_test_id("your-loan")
    expect(card).to_contain_text(f"You would be liquidated if WETH falls below ${weth.liquidation_price:,.0f}")
    expect(card.get_by_test_id("loan-band")).to_have_text("liquidation is near")
    expect(card.get_by_test_id("health-factor")).to_have_text(f"{loan.health_factor:.2f}")
    wait_for_socket(page, "#your-loan")
    wait_for_socket(page, ".bell-socket")
    screenshot(page, "lending-home-loan")

    oracle = contract(node, "DemoPriceOracle", contracts["DemoPriceOracle"])
    transact(minter, oracle, "setPrice", 2_600 * 10**8)  # WETH -17 %: under the liquidation price
    positions_tick(force=True)
    _market, (after,) = selectors.loans_read(addresses=[borrower.address])
    assert after.health_factor < Decimal(1)
    expect(card.get_by_test_id("health-factor")).to_have_text(f"{after.health_factor:.2f}", timeout=10_000)
    expect(card.get_by_test_id("loan-band")).to_have_text("can be liquidated now")
    expect(card).to_contain_text("This loan can be liquidated now: WETH is at $2,600")
    expect(page.get_by_test_id("notification-toast")).to_contain_text(
        "Your loan can be liquidated now: its health factor is", timeout=10_000)
    screenshot(page, "lending-home-alert")
