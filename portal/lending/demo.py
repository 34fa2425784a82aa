"""The demo lending market on the dev chain: list WETH and WBTC as collateral, fund a lender and open varied loans.

Called by governance.demo_chain.seed_chain after the contracts are deployed. Idempotent: a pool that already has
liquidity is left as it is (apart from its listings, which are checked each time).
"""

from __future__ import annotations

from governance.deploy import contract
from governance.devchain import DEV_KEYS

TOKEN = 10**18
BTC = 10**8
PRICE = 10**8  # the feeds' 8 decimals
# collateral name -> (feed name, LTV, liquidation threshold, liquidation bonus), basis points
COLLATERAL = {
    "WETH": ("DemoPriceOracle", 8_000, 8_250, 500),
    "WBTC": ("BtcUsdOracle", 7_000, 7_500, 750),
}
DEMO_PRICES = {
    "DemoPriceOracle": 3_150 * PRICE,
    "EthUsdReferenceOracle": 3_150 * PRICE,
    "BtcUsdOracle": 60_000 * PRICE,
    "DollarUsdOracle": 1 * PRICE,
}
LENDER_SUPPLY = 100_000 * TOKEN  # anvil #1 lends this much DUSD
# (account index, {collateral: amount}, borrowed DUSD): #2 comfortable (HF about 2.08), #4 getting close (about 1.61),
# #3 near liquidation (about 1.08, after repaying 100 of 9,100).
LOANS = (
    (2, {"WETH": 20 * TOKEN}, 25_000 * TOKEN),
    (4, {"WETH": 5 * TOKEN}, 9_000 * TOKEN),
    (3, {"WETH": 2 * TOKEN, "WBTC": BTC // 10}, 9_100 * TOKEN),
)
REPAYMENT = (3, 100 * TOKEN)
PRICE_REFRESH_SECONDS = 3600


def seed_lending(node, addresses: dict[str, str], accounts, *, stdout) -> None:
    """List the collateral, refresh stale demo prices, and (once) supply liquidity and open the demo loans."""
    admin_key = DEV_KEYS[0]
    pool = contract(node, "LendingPool", addresses["LendingPool"])
    listed = set(pool.functions.getReservesList().call())
    for name, (feed, ltv, threshold, bonus) in COLLATERAL.items():
        if addresses[name] not in listed:
            send(node, admin_key, pool, "listCollateral", addresses[name], addresses[feed], 24 * 3600, ltv, threshold, bonus)
            stdout.write(f"  lending pool: listed {name} as collateral (LTV {ltv / 100:g} %, threshold {threshold / 100:g} %)\n")
    refresh_prices(node, addresses, stdout=stdout)
    if pool.functions.totalSupplied().call():
        return
    dollar = contract(node, "DemoDollar", addresses["DemoDollar"])
    lender = accounts[1]
    send(node, admin_key, dollar, "mint", lender.address, LENDER_SUPPLY)
    send(node, lender.key.to_0x_hex(), dollar, "approve", pool.address, 2**256 - 1)
    send(node, lender.key.to_0x_hex(), pool, "supply", dollar.address, LENDER_SUPPLY)
    for index, collateral, borrowed in LOANS:
        borrower = accounts[index]
        key = borrower.key.to_0x_hex()
        for name, amount in collateral.items():
            token = contract(node, "DemoToken", addresses[name])
            send(node, admin_key, token, "mint", borrower.address, amount)
            send(node, key, token, "approve", pool.address, 2**256 - 1)
            send(node, key, pool, "supply", token.address, amount)
        send(node, key, pool, "borrow", borrowed)
        send(node, key, dollar, "approve", pool.address, 2**256 - 1)
    index, amount = REPAYMENT
    send(node, accounts[index].key.to_0x_hex(), pool, "repay", amount)
    utilization = pool.functions.utilization().call() / 10**16
    stdout.write(
        f"  lending pool: {LENDER_SUPPLY // TOKEN:,} DUSD supplied, loans opened for #2, #3 and #4 "
        f"(utilisation {utilization:.1f}%)\n"
    )


def refresh_prices(node, addresses: dict[str, str], *, stdout) -> None:
    """Set each demo feed once after deployment, and again whenever its price has gone stale (a restarted chain)."""
    now = node.get_block("latest")["timestamp"]
    for name, price in DEMO_PRICES.items():
        feed = contract(node, "DemoPriceOracle", addresses[name])
        round_id, _, _, updated_at, _ = feed.functions.latestRoundData().call()
        if round_id <= 1 or now - updated_at > PRICE_REFRESH_SECONDS:
            send(node, DEV_KEYS[0], feed, "setPrice", price)
            stdout.write(f"  {feed.functions.description().call()} price set to {price / PRICE:,.2f}\n")


def send(node, key: str, target, function: str, *args) -> dict:
    return node.send_transaction(key=key, tx={"to": target.address, "data": target.encode_abi(function, args=args)})
