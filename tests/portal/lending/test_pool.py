"""The demo lending market on a real anvil: Aave v3's getUserAccountData units, LTV and thresholds, staleness,
liquidation with a bonus, parameter changes and their refusals."""

from __future__ import annotations

import pytest

from eth_utils import keccak
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from governance.chain import TransactionFailed
from governance.deploy import contract, deploy_contract
from portal.lending.demo import COLLATERAL, DEMO_PRICES

TOKEN = 10**18
BPS = 10_000
NO_DEBT = 2**256 - 1


def custom_error(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def account_data(pool, address):
    return pool.functions.getUserAccountData(address).call()


def test_account_data_has_aave_v3_units(pool, contracts, dev_accounts):
    # #2: 20 WETH at $3,150, 25,000 DUSD borrowed at $1 — computed here from the seeded figures, not read back
    collateral, debt, available, threshold, ltv, health = account_data(pool, dev_accounts[2].address)
    assert collateral == 20 * 3_150 * 10**8  # base currency, 8 decimals
    assert debt == 25_000 * 10**8
    _feed, weth_ltv, weth_threshold, _bonus = COLLATERAL["WETH"]
    assert (threshold, ltv) == (weth_threshold, weth_ltv)  # basis points
    assert available == collateral * weth_ltv // BPS - debt
    assert health == collateral * weth_threshold * 10**18 // (BPS * debt)  # 1e18 = 1.0
    assert 2 * 10**18 < health < 21 * 10**17


def test_two_collaterals_weight_the_threshold_and_ltv(pool, dev_accounts):
    # #3: 2 WETH ($6,300) + 0.1 WBTC ($6,000, 8 decimals), 9,000 DUSD owed: near liquidation
    collateral, debt, _available, threshold, ltv, health = account_data(pool, dev_accounts[3].address)
    weth, wbtc = 2 * 3_150 * 10**8, 6_000 * 10**8
    assert collateral == weth + wbtc
    assert debt == 9_000 * 10**8
    weighted = weth * COLLATERAL["WETH"][2] + wbtc * COLLATERAL["WBTC"][2]
    assert threshold == weighted // collateral
    assert ltv == (weth * COLLATERAL["WETH"][1] + wbtc * COLLATERAL["WBTC"][1]) // collateral
    assert health == weighted * 10**18 // (BPS * debt)
    assert 10**18 < health < 11 * 10**17


def test_no_debt_is_the_maximal_health_factor(pool, dev_accounts, stranger):
    assert account_data(pool, dev_accounts[1].address) == [0, 0, 0, 0, 0, NO_DEBT]  # the lender: liquidity only
    assert account_data(pool, stranger.address) == [0, 0, 0, 0, 0, NO_DEBT]


def test_borrowing_stops_at_the_loan_to_value(node, pool, contracts, minter, stranger, transact, fund, chain_snapshot):
    weth = contract(node, "DemoToken", contracts["WETH"])
    fund(stranger.address)
    transact(minter, weth, "mint", stranger.address, TOKEN)
    transact(stranger, weth, "approve", pool.address, 2**256 - 1)
    transact(stranger, pool, "supply", weth.address, TOKEN)
    limit = 3_150 * TOKEN * COLLATERAL["WETH"][1] // BPS  # 80 % of $3,150 in DUSD
    with pytest.raises(TransactionFailed):
        transact(stranger, pool, "borrow", limit + 1)
    transact(stranger, pool, "borrow", limit)
    with pytest.raises(TransactionFailed):  # withdrawing any collateral would leave the loan above its LTV
        transact(stranger, pool, "withdraw", weth.address, 1)
    assert account_data(pool, stranger.address)[2] == 0  # no borrowing power left
    with pytest.raises(TransactionFailed):  # an unlisted asset is no collateral
        transact(stranger, pool, "supply", contracts["LoyaltyToken"], 1)


def test_liquidation_pays_the_bonus_and_only_when_unhealthy(
    node, pool, contracts, minter, dev_accounts, transact, chain_snapshot
):
    borrower, liquidator = dev_accounts[3].address, minter
    dollar = contract(node, "DemoDollar", contracts["DemoDollar"])
    weth = contract(node, "DemoToken", contracts["WETH"])
    oracle = contract(node, "DemoPriceOracle", contracts["DemoPriceOracle"])
    transact(minter, dollar, "mint", liquidator.address, 10_000 * TOKEN)
    transact(liquidator, dollar, "approve", pool.address, 2**256 - 1)
    with pytest.raises(TransactionFailed):  # healthy (HF about 1.08): nothing to liquidate
        transact(liquidator, pool, "liquidate", weth.address, borrower, 1_000 * TOKEN)

    transact(minter, oracle, "setPrice", 2_500 * 10**8)  # WETH -21 %
    assert account_data(pool, borrower)[5] < 10**18
    before = weth.functions.balanceOf(liquidator.address).call()
    receipt = transact(liquidator, pool, "liquidate", weth.address, borrower, 1_000 * TOKEN)
    seized = 1_000 * TOKEN * (BPS + COLLATERAL["WETH"][3]) // BPS * 10**8 // (2_500 * 10**8)  # $1,050 of WETH
    assert weth.functions.balanceOf(liquidator.address).call() - before == seized
    assert pool.functions.borrowedBy(borrower).call() == 8_000 * TOKEN
    assert pool.functions.collateralBalanceOf(weth.address, borrower).call() == 2 * TOKEN - seized
    (event,) = pool.events.Liquidated().process_receipt(receipt, errors=DISCARD)
    assert (event.args.account, event.args.liquidator, event.args.collateralAsset) == (
        borrower, liquidator.address, weth.address)
    assert (event.args.debtCovered, event.args.collateralSeized) == (1_000 * TOKEN, seized)


def test_risk_parameters_change_with_an_event_and_refuse_nonsense(
    node, pool, contracts, minter, dev_accounts, transact, chain_snapshot
):
    weth = contracts["WETH"]
    receipt = transact(minter, pool, "setRiskParameters", weth, 7_500, 8_000, 500)
    (event,) = pool.events.RiskParametersChanged().process_receipt(receipt, errors=DISCARD)
    assert (event.args.asset, event.args.ltv, event.args.liquidationThreshold) == (weth, 7_500, 8_000)
    assert pool.functions.configOf(weth).call()[2:5] == [7_500, 8_000, 500]
    for ltv, threshold, bonus in ((8_500, 8_000, 500), (9_000, 10_001, 0), (9_000, 9_800, 500)):
        with pytest.raises(TransactionFailed):  # LTV above threshold, threshold above 100 %, unpayable bonus
            transact(minter, pool, "setRiskParameters", weth, ltv, threshold, bonus)
    with pytest.raises(TransactionFailed):  # unknown asset
        transact(minter, pool, "setRiskParameters", contracts["LoyaltyToken"], 5_000, 6_000, 500)
    with pytest.raises(TransactionFailed):  # only the owner
        transact(dev_accounts[1], pool, "setRiskParameters", weth, 7_000, 8_000, 500)
    assert pool.functions.configOf(weth).call()[2:5] == [7_500, 8_000, 500]


def test_a_stale_or_negative_price_is_refused(node, contracts, minter, transact, fund, chain_snapshot):
    key = minter.key.to_0x_hex()
    feed_address = deploy_contract(node, deployer_key=key, name="DemoPriceOracle", args=(minter.address, 8, "T", 10**8))
    dollar_feed = deploy_contract(node, deployer_key=key, name="DemoPriceOracle", args=(minter.address, 8, "D", 10**8))
    fresh = deploy_contract(node, deployer_key=key, name="LendingPool",
                            args=(minter.address, contracts["DemoDollar"], dollar_feed, 600))
    pool = contract(node, "LendingPool", fresh)
    feed = contract(node, "DemoPriceOracle", feed_address)
    weth = contract(node, "DemoToken", contracts["WETH"])
    transact(minter, pool, "listCollateral", weth.address, feed_address, 60, 8_000, 8_250, 500)
    transact(minter, weth, "mint", minter.address, TOKEN)
    transact(minter, weth, "approve", fresh, 2**256 - 1)
    transact(minter, pool, "supply", weth.address, TOKEN)
    assert account_data(pool, minter.address)[0] == 10**8
    node.w3.provider.make_request("evm_increaseTime", [120])
    node.w3.provider.make_request("evm_mine", [])
    with pytest.raises(ContractCustomError, match=custom_error("StalePrice(address,uint256)")):  # 2 min old, limit 1
        pool.functions.getUserAccountData(minter.address).call()
    transact(minter, feed, "setPrice", -1)
    with pytest.raises(ContractCustomError, match=custom_error("InvalidPrice(address,int256)")):
        pool.functions.getAssetPrice(weth.address).call()


def test_feeds_are_aggregator_v3_shaped(node, contracts, minter, transact, chain_snapshot):
    feed = contract(node, "DemoPriceOracle", contracts["BtcUsdOracle"])
    assert (feed.functions.decimals().call(), feed.functions.description().call()) == (8, "BTC / USD")
    assert feed.functions.version().call() == 4
    round_id, answer, _started, updated, answered = feed.functions.latestRoundData().call()
    assert answer == DEMO_PRICES["BtcUsdOracle"] and answered == round_id
    transact(minter, feed, "setPrice", 55_000 * 10**8)
    assert feed.functions.getRoundData(round_id).call()[1:4] == [answer, updated, updated]
    assert feed.functions.latestRoundData().call()[:2] == [round_id + 1, 55_000 * 10**8]
    with pytest.raises(ContractCustomError, match=custom_error("NoSuchRound(uint80)")):
        feed.functions.getRoundData(round_id + 5).call()
