"""Deploy the demo contracts on the dev chain for `seed_demo` and give anvil's accounts #0–#4 something to vote with.

Idempotent: addresses recorded in `.devchain/deployments.json` (keyed by chain id) are reused when their code is still
there, balances are topped up to their targets, and badges, delegation and pool activity happen once.
"""

from __future__ import annotations

from eth_account import Account

from governance.chain import ChainUnavailable, chain
from governance.deploy import contract, deploy_all, read_deployments, record_deployments
from governance.devchain import DEV_KEYS

TOKEN = 10**18
# Loyalty tokens for anvil #0–#4: different enough to land in different tiers.
DEMO_BALANCES = (50_000 * TOKEN, 12_000 * TOKEN, 3_000 * TOKEN, 800 * TOKEN, 150 * TOKEN)
# (account index, achievement id): first proposal, first vote, helpful reviewer …
DEMO_BADGES = ((0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (2, 1))
ACHIEVEMENTS = {1: "first vote", 2: "first proposal", 3: "early supporter"}
DEMO_PRICE = 3_150 * 10**8  # ETH / USD with 8 decimals
PRICE_REFRESH_SECONDS = 3600
# (account index, supply, borrow) in DUSD
POOL_ACTIVITY = (
    (1, 100_000 * TOKEN, 0),
    (2, 40_000 * TOKEN, 25_000 * TOKEN),
    (3, 10_000 * TOKEN, 6_000 * TOKEN),
)


def seed_chain(*, stdout, node=None) -> dict[str, str]:
    """Deploy (or reuse) the contracts, fund and self-delegate #0–#4, award badges, run the pool, refresh the price.

    Prints what it did. Returns the contract addresses. Writes nothing when the chain cannot be reached.
    """
    node = node or chain()
    try:
        chain_id = node.chain_id
        client = str(node.retrying("reading the client version", lambda: node.w3.client_version))
    except ChainUnavailable as exc:
        stdout.write(f"Chain: skipped, {exc}\n")
        return {}
    if not client.lower().startswith("anvil"):
        # The dev keys are public: never deploy or mint with them anywhere but a local anvil.
        stdout.write(
            f"Chain {chain_id}: {client} is not a local anvil, so no demo contracts are deployed; configure the "
            "deployed contracts' addresses instead.\n"
        )
        return {}
    admin_key = DEV_KEYS[0]
    accounts = [Account.from_key(key) for key in DEV_KEYS]
    recorded = read_deployments(chain_id)
    addresses = deploy_all(node, deployer_key=admin_key, reuse=recorded)
    record_deployments(chain_id, addresses)
    for name, address in addresses.items():
        verb = "reused" if recorded.get(name) == address else "deployed"
        stdout.write(f"Chain {chain_id}: {verb} {name} at {address}\n")

    token = contract(node, "LoyaltyToken", addresses["LoyaltyToken"])
    for account, target in zip(accounts, DEMO_BALANCES, strict=True):
        balance = token.functions.balanceOf(account.address).call()
        if balance < target:
            _send(node, admin_key, token, "mint", account.address, target - balance)
            stdout.write(f"  minted {(target - balance) // TOKEN:,} LOYAL to {account.address}\n")
        if token.functions.delegates(account.address).call() != account.address:
            _send(node, account.key.to_0x_hex(), token, "delegate", account.address)
            stdout.write(f"  {account.address} delegated to itself\n")
    stdout.write(
        f"  anvil #0–#4 hold {', '.join(f'{b // TOKEN:,}' for b in DEMO_BALANCES)} LOYAL, self-delegated\n"
    )

    badge = contract(node, "AchievementBadge", addresses["AchievementBadge"])
    for index, achievement in DEMO_BADGES:
        holder = accounts[index].address
        if not badge.functions.hasAchievement(holder, achievement).call():
            _send(node, admin_key, badge, "award", holder, achievement)
            stdout.write(f"  awarded the {ACHIEVEMENTS[achievement]!r} badge to {holder}\n")

    _seed_pool(node, addresses, accounts, stdout=stdout)

    oracle = contract(node, "DemoPriceOracle", addresses["DemoPriceOracle"])
    round_id, _, _, updated_at, _ = oracle.functions.latestRoundData().call()
    # Set once after deployment, then again whenever the demo price has gone stale (a restarted `make run`).
    if round_id <= 1 or node.get_block("latest")["timestamp"] - updated_at > PRICE_REFRESH_SECONDS:
        _send(node, admin_key, oracle, "setPrice", DEMO_PRICE)
        stdout.write(f"  oracle price set to {DEMO_PRICE / 10**8:,.2f} USD\n")
    return addresses


def _seed_pool(node, addresses: dict[str, str], accounts, *, stdout) -> None:
    pool = contract(node, "LendingPool", addresses["LendingPool"])
    if pool.functions.totalSupplied().call():
        return
    dollar = contract(node, "DemoDollar", addresses["DemoDollar"])
    admin_key = DEV_KEYS[0]
    for index, supplied, borrowed in POOL_ACTIVITY:
        account = accounts[index]
        key = account.key.to_0x_hex()
        _send(node, admin_key, dollar, "mint", account.address, supplied)
        _send(node, key, dollar, "approve", pool.address, 2**256 - 1)
        _send(node, key, pool, "supply", supplied)
        if borrowed:
            _send(node, key, pool, "borrow", borrowed)
    # One partial repayment, so the pool's history has every kind of event.
    _send(node, accounts[3].key.to_0x_hex(), pool, "repay", 1_000 * TOKEN)
    utilization = pool.functions.utilization().call() / 10**16
    stdout.write(f"  lending pool: supplied, borrowed and repaid DUSD (utilisation {utilization:.1f}%)\n")


def _send(node, key: str, target, function: str, *args) -> dict:
    return node.send_transaction(
        key=key, tx={"to": target.address, "data": target.encode_abi(function, args=args)}
    )
