"""Platform risk: GET /api/v1/risk equals what the pool says, and the status page carries it as components and
metrics (with the Statuspage-shaped summary.json)."""

from __future__ import annotations

import json
from decimal import Decimal
from http import HTTPStatus

import pytest

from governance.deploy import contract
from portal.health import demo
from portal.health.checks import measure
from portal.health.models import Check
from portal.health.services import checks_run_due
from portal.lending import risk
from portal.lending.services import positions_tick

pytestmark = [pytest.mark.django_db]
TOKEN = 10**18


@pytest.fixture(autouse=True)
def _fresh_risk():
    risk._recent.clear()
    yield
    risk._recent.clear()


def get_risk(client):
    response = client.get("/api/v1/risk")
    assert response.status_code == HTTPStatus.OK
    return json.loads(response.content)


def test_risk_equals_the_chain(client, contracts, dev_accounts, pool):
    positions_tick(force=True)  # learns the pool's borrowers from its events
    body = get_risk(client)
    health = {a.address: pool.functions.getUserAccountData(a.address).call(block_identifier=body["block"])
              for a in dev_accounts[1:5]}
    at_risk = [data for data in health.values() if data[1] and data[5] < 11 * 10**17]
    assert body["positions_at_risk"] == len(at_risk) == 1  # anvil #3
    assert Decimal(body["debt_at_risk"]) == sum(Decimal(d[1]) for d in at_risk) / 10**8
    total_borrowed = pool.functions.totalBorrowed().call(block_identifier=body["block"])
    total_supplied = pool.functions.totalSupplied().call(block_identifier=body["block"])
    assert Decimal(body["utilisation"]["DUSD"]) == Decimal(total_borrowed) / total_supplied
    assert body["bad_debt"] == "0" and body["liquidations_24h"] == 0
    oracle = {o["symbol"]: o for o in body["oracle"]}
    assert set(oracle) == {"DUSD", "WETH", "WBTC"}
    assert oracle["WETH"]["price"] == "3150" and oracle["WETH"]["deviation"] == "0"
    assert oracle["WBTC"]["reference_price"] is None and oracle["WETH"]["age_seconds"] >= 0


def test_liquidations_and_bad_debt_show_up(client, node, contracts, dev_accounts, minter, transact, pool, set_price,
                                           chain_snapshot):
    positions_tick(force=True)
    borrower = dev_accounts[3].address
    dollar = contract(node, "DemoDollar", contracts["DemoDollar"])
    transact(minter, dollar, "mint", minter.address, 20_000 * TOKEN)
    transact(minter, dollar, "approve", pool.address, 2**256 - 1)
    # A crash deep enough that seizing all collateral cannot cover the debt: what is left is bad debt.
    set_price(contract(node, "DemoPriceOracle", contracts["DemoPriceOracle"]), 500)
    set_price(contract(node, "DemoPriceOracle", contracts["BtcUsdOracle"]), 10_000)
    set_price(contract(node, "DemoPriceOracle", contracts["EthUsdReferenceOracle"]), 520)
    transact(minter, pool, "liquidate", contracts["WETH"], borrower, 9_000 * TOKEN)
    transact(minter, pool, "liquidate", contracts["WBTC"], borrower, 9_000 * TOKEN)
    collateral, debt = pool.functions.getUserAccountData(borrower).call()[:2]
    assert collateral == 0 and debt > 0
    positions_tick(force=True)
    body = get_risk(client)
    assert body["liquidations_24h"] == 2
    assert Decimal(body["bad_debt"]) == Decimal(debt) / 10**8
    weth = next(o for o in body["oracle"] if o["symbol"] == "WETH")
    assert Decimal(weth["deviation"]) == abs(Decimal(500) - 520) / 520


def test_risk_is_a_status_component_in_summary_json(client, contracts, chain_snapshot):
    positions_tick(force=True)
    demo.seed_components()
    for _ in range(Check.objects.get(slug="positions-at-risk").consecutive):  # statuses settle with hysteresis
        checks_run_due(force=True)
    at_risk = Check.objects.get(slug="positions-at-risk")
    assert at_risk.last_value == 1.0 and at_risk.status == "degraded_performance"
    assert Check.objects.get(slug="bad-debt").last_value == 0.0
    summary = json.loads(client.get("/api/v2/summary.json").content)
    component = next(c for c in summary["components"] if c["name"] == "Lending risk")
    assert component["status"] == "degraded_performance"
    assert "Lending risk" in client.get("/status/").content.decode()
    page = client.get("/status/components/lending-risk/").content.decode()
    assert "Positions at risk" in page and "Price deviation from the reference feed" in page
    metrics = json.loads(client.get("/status/components/lending-risk/metrics.json").content)
    assert "positions-at-risk" in json.dumps(metrics)  # the chart's series


def test_an_unknown_metric_or_no_pool_is_a_failed_sample_with_a_sentence(db, contracts, settings):
    check = Check(slug="x", name="x", kind="lending_risk", config={"metric": "moon_phase"})
    assert measure(check).error.startswith("“moon_phase” is not a lending risk metric; use one of positions_at_risk")
    settings.PORTAL = {**settings.PORTAL, "LENDING_POOL_KIND": "compound-v2"}
    check.config = {"metric": "bad_debt"}
    assert measure(check).error == "LENDING_POOL_KIND is “compound-v2”, but this portal reads only aave-v3 pools."
