"""GET /api/v1/positions/{address} and the loan card, against the seeded pool on anvil: every number equals what
getUserAccountData says, liquidation prices are where the chain agrees the position turns liquidatable."""

from __future__ import annotations

import json
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings

from governance.deploy import contract, deploy_contract
from governance.devchain import free_port
from portal.lending import reader, selectors
from portal.lending.models import Position


pytestmark = [pytest.mark.django_db]


def api(client, address):
    response = client.get(f"/api/v1/positions/{address}")
    return response, json.loads(response.content)


def test_api_equals_get_user_account_data(client, pool, dev_accounts):
    for account in dev_accounts[1:5]:
        response, body = api(client, account.address)
        assert response.status_code == HTTPStatus.OK
        c, d, a, t, ltv, hf = pool.functions.getUserAccountData(account.address).call(block_identifier=body["block"])
        assert Decimal(body["collateral"]) == Decimal(c) / 10**8
        assert Decimal(body["debt"]) == Decimal(d) / 10**8
        assert Decimal(body["available_borrows"]) == Decimal(a) / 10**8
        assert Decimal(body["liquidation_threshold"]) == Decimal(t) / 10_000
        assert Decimal(body["ltv"]) == Decimal(ltv) / 10_000
        if d:
            assert Decimal(body["health_factor"]) == Decimal(hf) / 10**18
        else:
            assert body["health_factor"] is None and hf == 2**256 - 1
        for field in ("collateral", "debt", "available_borrows", "health_factor"):
            assert body[field] is None or "E" not in body[field]


def test_liquidation_prices_are_where_the_chain_turns_liquidatable(client, pool, contracts, dev_accounts, node,
                                                                    set_price, chain_snapshot):
    borrower = dev_accounts[3].address
    _response, body = api(client, borrower)
    prices = {p["symbol"]: p for p in body["liquidation_prices"]}
    assert set(prices) == {"WETH", "WBTC"} and prices["WETH"]["amount"] == "2" and prices["WBTC"]["amount"] == "0.1"
    for symbol, feed_name in (("WETH", "DemoPriceOracle"), ("WBTC", "BtcUsdOracle")):
        feed = contract(node, "DemoPriceOracle", contracts[feed_name])
        snapshot = node.w3.provider.make_request("evm_snapshot", [])["result"]
        at = Decimal(prices[symbol]["liquidation_price"])
        assert at < Decimal(prices[symbol]["price"])
        set_price(feed, at)
        assert pool.functions.getUserAccountData(borrower).call()[5] >= 10**18, symbol  # at it: still safe
        set_price(feed, at - Decimal("0.00000001"))
        assert pool.functions.getUserAccountData(borrower).call()[5] < 10**18, symbol  # one unit (1e-8) under it
        node.w3.provider.make_request("evm_revert", [snapshot])


def test_no_debt_has_no_health_factor_nor_liquidation_price(client, contracts, dev_accounts, stranger):
    _response, lender = api(client, dev_accounts[1].address)
    assert lender["health_factor"] is None and lender["debt"] == "0" and lender["liquidation_prices"] == []
    _response, nobody = api(client, stranger.address)
    assert nobody["collateral"] == "0" and nobody["health_factor"] is None


@pytest.mark.parametrize("address", ["0x123", "not-an-address", "0x" + "g" * 40])
def test_a_malformed_address_gets_a_sentence(client, contracts, address):
    response, body = api(client, address)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert body["error"].startswith(f"“{address}” is not an Ethereum address")
    assert not Position.objects.exists()


def test_node_down_answers_503_with_a_sentence(client, contracts, dev_accounts, monkeypatch):
    monkeypatch.setitem(django_settings.PORTAL, "CHAIN_RPC_URL", f"http://127.0.0.1:{free_port()}")
    response, body = api(client, dev_accounts[3].address)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "cannot be reached right now" in body["error"]


def test_a_pool_address_without_code_or_of_another_interface_is_refused(client, contracts, dev_accounts, stranger,
                                                                        monkeypatch):
    monkeypatch.setitem(django_settings.PORTAL, "LENDING_POOL_ADDRESS", stranger.address)
    response, body = api(client, dev_accounts[3].address)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["error"] == (f"There is no contract at {stranger.address} on this chain, so it cannot be the lending "
                             "pool. Check LENDING_POOL_ADDRESS.")
    monkeypatch.setitem(django_settings.PORTAL, "LENDING_POOL_ADDRESS", contracts["LoyaltyToken"])
    response, body = api(client, dev_accounts[3].address)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["error"].startswith(f"The contract at {contracts['LoyaltyToken']} does not answer "
                                    "getUserAccountData(address) like an Aave v3 pool")
    monkeypatch.setitem(django_settings.PORTAL, "LENDING_POOL_ADDRESS", "0xnope")
    assert "is not an Ethereum address" in api(client, dev_accounts[3].address)[1]["error"]
    monkeypatch.setitem(django_settings.PORTAL, "LENDING_POOL_ADDRESS", "")
    monkeypatch.setitem(django_settings.PORTAL, "LENDING_POOL_KIND", "compound-v2")
    assert api(client, dev_accounts[3].address)[1]["error"] == (
        "LENDING_POOL_KIND is “compound-v2”, but this portal reads only aave-v3 pools.")
    assert not Position.objects.exists()


def test_a_pool_reverting_for_one_account_marks_only_that_account(node, pool, contracts, minter, dev_accounts,
                                                                  stranger, transact, fund, chain_snapshot):
    # A third collateral whose feed may be only a minute old: once stale, the pool reverts for its holder alone.
    key = minter.key.to_0x_hex()
    token = contract(node, "DemoToken", deploy_contract(node, deployer_key=key, name="DemoToken",
                                                        args=(minter.address, "Stale", "STALE", 18)))
    feed = deploy_contract(node, deployer_key=key, name="DemoPriceOracle", args=(minter.address, 8, "S", 10**8))
    transact(minter, pool, "listCollateral", token.address, feed, 60, 5_000, 6_000, 500)
    fund(stranger.address)
    transact(minter, token, "mint", stranger.address, 10**18)
    transact(stranger, token, "approve", pool.address, 2**256 - 1)
    transact(stranger, pool, "supply", token.address, 10**18)
    node.w3.provider.make_request("evm_increaseTime", [120])
    node.w3.provider.make_request("evm_mine", [])
    addresses = [dev_accounts[2].address, stranger.address, dev_accounts[3].address]
    _market, loans = selectors.loans_read(addresses=addresses)
    assert loans[1] is None
    assert loans[0].data.debt_base == 25_000 * 10**8 and loans[2].data.debt_base == 9_000 * 10**8


def test_home_and_account_pages_say_it_in_plain_words(client, borrower, dev_accounts, django_assert_num_queries):
    _market, (loan,) = selectors.loans_read(addresses=[dev_accounts[3].address])
    weth = next(p for p in loan.prices if p.asset.symbol == "WETH")
    words = (f"You would be liquidated if WETH falls below ${weth.liquidation_price:,.0f} — "
             f"{weth.drop * 100:.0f} % under today's price ($3,150).")
    client.force_login(borrower)
    for url in ("/", "/account/", "/lending/"):
        html = client.get(url).content.decode()
        assert words in html, url
        assert f"{loan.health_factor:.2f}" in html and "liquidation is near" in html
    with django_assert_num_queries(12):
        assert client.get("/").status_code == HTTPStatus.OK


def test_node_down_page_says_it_cannot_be_read_and_shows_no_number(client, borrower, monkeypatch):
    client.force_login(borrower)
    monkeypatch.setitem(django_settings.PORTAL, "CHAIN_RPC_URL", f"http://127.0.0.1:{free_port()}")
    html = client.get("/").content.decode()
    assert "Your position cannot be read right now." in html
    assert 'data-testid="health-factor"' not in html and "You would be liquidated" not in html


def test_anonymous_and_walletless_visitors_see_no_loan_card(client, db, contracts, make_user):
    assert 'data-testid="your-loan"' not in client.get("/").content.decode()
    client.force_login(make_user(display_name="someone-without-a-wallet-uid", wallet=False))
    assert 'data-testid="your-loan"' not in client.get("/").content.decode()


def test_reader_refuses_unknown_kind_before_reading(monkeypatch, contracts):
    monkeypatch.setitem(django_settings.PORTAL, "LENDING_POOL_KIND", "morpho")
    with pytest.raises(reader.PoolMisconfigured, match="reads only aave-v3 pools"):
        reader.pool_address()
