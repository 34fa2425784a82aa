"""Deploy the demo contracts on the dev chain for `seed_demo` and give anvil's accounts #0–#4 something to vote with.

Idempotent: addresses recorded in `.devchain/deployments.json` (keyed by chain id) are reused when their code is still
there, balances are topped up to their targets, and badges, delegation and pool activity happen once.
"""

from __future__ import annotations

from eth_account import Account

from governance.chain import ChainUnavailable, chain
from governance.deploy import contract, deploy_all, read_deployments, record_deployments
from governance.devchain import DEV_KEYS
from portal.lending.demo import seed_lending

TOKEN = 10**18
# Loyalty tokens for anvil #0–#4: different enough to land in different tiers.
DEMO_BALANCES = (50_000 * TOKEN, 12_000 * TOKEN, 3_000 * TOKEN, 800 * TOKEN, 150 * TOKEN)
# (account index, achievement id): first proposal, first vote, helpful reviewer …
DEMO_BADGES = ((0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (2, 1))
ACHIEVEMENTS = {1: "first vote", 2: "first proposal", 3: "early supporter"}


def seed_chain(*, stdout, node=None) -> dict[str, str]:
    """Deploy (or reuse) the contracts, fund and self-delegate #0–#4, award badges, open the demo loans (portal.lending.demo).

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

    seed_lending(node, addresses, accounts, stdout=stdout)
    return addresses


def _send(node, key: str, target, function: str, *args) -> dict:
    return node.send_transaction(
        key=key, tx={"to": target.address, "data": target.encode_abi(function, args=args)}
    )
