"""The impact preview of a risk-parameter change: its numbers equal what the pool says once the change is really
made on-chain, and every bad input is refused with a sentence."""

from __future__ import annotations

import json
from decimal import Decimal
from http import HTTPStatus

import pytest

from portal.lending.models import Position
from portal.lending.services import positions_tick

pytestmark = [pytest.mark.django_db]


def preview(client, **query):
    response = client.get("/api/v1/risk/impact", query)
    return response, json.loads(response.content)


def liquidatable_on_chain(pool, addresses):
    return sorted(a for a in addresses if pool.functions.getUserAccountData(a).call()[5] < 10**18)


def test_a_price_shock_preview_equals_the_chain_after_the_fall(client, contracts, pool, weth_feed, set_price,
                                                               chain_snapshot):
    positions_tick(force=True)
    addresses = list(Position.objects.values_list("address", flat=True))
    response, body = preview(client, asset="WETH", parameter="price_shock", value="-0.2")
    assert response.status_code == HTTPStatus.OK
    assert body["liquidatable_before"] == len(liquidatable_on_chain(pool, addresses)) == 0
    assert sum(body["histogram_before"]) == sum(body["histogram_after"]) == body["positions"] == 3
    set_price(weth_feed, Decimal(3_150) * Decimal("0.8"))
    fallen = liquidatable_on_chain(pool, addresses)
    assert sorted(body["newly_liquidatable"]) == fallen and body["liquidatable_after"] == len(fallen) >= 1
    debt = sum(Decimal(pool.functions.getUserAccountData(a).call()[1]) for a in fallen) / 10**8
    assert Decimal(body["debt_liquidatable_after"]) == debt


def test_a_threshold_preview_equals_the_chain_after_the_vote(client, contracts, pool, minter, transact,
                                                             chain_snapshot):
    positions_tick(force=True)
    addresses = list(Position.objects.values_list("address", flat=True))
    transact(minter, pool, "setRiskParameters", contracts["WETH"], 6_500, 8_250, 500)  # room to lower the threshold
    response, body = preview(client, asset="WETH", parameter="liquidation_threshold", value="0.66")
    assert response.status_code == HTTPStatus.OK and body["change"]["old"] == "0.825"
    transact(minter, pool, "setRiskParameters", contracts["WETH"], 6_500, 6_600, 500)
    assert sorted(body["newly_liquidatable"]) == liquidatable_on_chain(pool, addresses)
    assert body["liquidatable_after"] == len(body["newly_liquidatable"]) >= 1


@pytest.mark.parametrize(("query", "sentence"), [
    ({"asset": "DOGE", "parameter": "ltv", "value": "0.5"},
     "“DOGE” is not a collateral asset of this lending market (it lists WETH, WBTC)."),
    ({"asset": "DUSD", "parameter": "ltv", "value": "0.5"},
     "“DUSD” is not a collateral asset of this lending market (it lists WETH, WBTC)."),
    ({"asset": "WETH", "parameter": "reserve_factor", "value": "0.1"},
     "“reserve_factor” is not a risk parameter; use one of liquidation_threshold, ltv, price_shock."),
    ({"asset": "WETH", "parameter": "ltv", "value": "lots"}, "The new value “lots” is not a number."),
    ({"asset": "WETH", "parameter": "ltv", "value": "1.2"}, "An LTV cannot be above 100 % (120 % asked); give a fraction from 0 to 1 (0.8 = 80 %)."),
    ({"asset": "WETH", "parameter": "liquidation_threshold", "value": "1.01"},
     "A liquidation threshold cannot be above 100 % (101 % asked); give a fraction from 0 to 1 (0.8 = 80 %)."),
    ({"asset": "WETH", "parameter": "ltv", "value": "0.9"},
     "An LTV of 90 % would be above WETH's liquidation threshold of 82.5 %: a new loan could be liquidated at once."),
    ({"asset": "WETH", "parameter": "liquidation_threshold", "value": "0.7"},
     "A liquidation threshold of 70 % would be below WETH's LTV of 80 %: a new loan could be liquidated at once."),
    ({"asset": "WETH", "parameter": "liquidation_threshold", "value": "0.96"},
     "A liquidation threshold of 96 % leaves no room for WETH's liquidation bonus of 5 % (threshold × (1 + bonus) "
     "must stay at most 100 %), so the pool would refuse it."),
    ({"asset": "WETH", "parameter": "ltv", "value": "0.75005"},
     "The pool keeps LTVs in basis points (0.01 %); 75.005 % is finer than that."),
    ({"asset": "WETH", "parameter": "ltv", "value": "-0.1"}, "An LTV cannot be negative."),
    ({"asset": "WETH", "parameter": "price_shock", "value": "-1"},
     "A price shock of -100 % would leave no price at all; give a fall smaller than 100 % (-0.3 is a 30 % fall)."),
    ({"asset": "WETH", "parameter": "price_shock", "value": "-1.5"},
     "A price shock of -150 % would leave no price at all; give a fall smaller than 100 % (-0.3 is a 30 % fall)."),
    ({"asset": "WETH", "parameter": "price_shock", "value": "NaN"}, "The price shock “NaN” is not a number."),
    ({"asset": "WETH", "parameter": "ltv", "value": "0.5", "market": "0x000000000000000000000000000000000000dEaD"},
     "There is no lending market “0x000000000000000000000000000000000000dEaD”; this portal reads the pool at "),
    ({"asset": "WETH", "parameter": "ltv", "value": "0.5", "block": "99999999"}, "Block 99999999 is not on this chain"),
])
def test_bad_changes_get_a_sentence_and_nothing_is_written(client, contracts, query, sentence):
    response, body = preview(client, **query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert body["error"].startswith(sentence)
    assert not Position.objects.exists()
