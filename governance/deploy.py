"""Deploy the portal's contracts and find their addresses.

Addresses come, in order, from `PORTAL["CONTRACTS"]` (settings; the home chain only) and from the dev chain's
deployments file (`.devchain/deployments.json`, keyed by chain id), which `seed_demo` writes.
"""

from __future__ import annotations

import json
import logging

from eth_account import Account
from web3 import Web3

from governance.chain import Chain, ChainUnavailable, home_chain_id
from governance.contracts import artifact
from governance.devchain import deployments_file
from portal.conf import portal_settings

log = logging.getLogger(__name__)

CANONICAL_MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
# Deployment order: a later contract's constructor may name an earlier one.
CONTRACT_NAMES = (
    "LoyaltyToken",
    "AchievementBadge",
    "Multicall3",
    "DemoPriceOracle",
    "DemoDollar",
    "WETH",
    "WBTC",
    "BtcUsdOracle",
    "DollarUsdOracle",
    "EthUsdReferenceOracle",
    "LendingPool",
)
# Deployed names whose compiled contract has another name (several feeds, several demo tokens).
ARTIFACT_OF = {
    "WETH": "DemoToken",
    "WBTC": "DemoToken",
    "BtcUsdOracle": "DemoPriceOracle",
    "DollarUsdOracle": "DemoPriceOracle",
    "EthUsdReferenceOracle": "DemoPriceOracle",
}
ORACLE_DECIMALS = 8
ORACLE_DESCRIPTION = "ETH / USD"
ORACLE_INITIAL_ANSWER = 3_000 * 10**ORACLE_DECIMALS
# name -> (description, initial answer with 8 decimals) of the other demo feeds
DEMO_FEEDS = {
    "BtcUsdOracle": ("BTC / USD", 60_000 * 10**ORACLE_DECIMALS),
    "DollarUsdOracle": ("DUSD / USD", 10**ORACLE_DECIMALS),
    "EthUsdReferenceOracle": ("ETH / USD (reference)", ORACLE_INITIAL_ANSWER),
}
DEMO_TOKENS = {"WETH": ("Wrapped Ether (demo)", "WETH", 18), "WBTC": ("Wrapped Bitcoin (demo)", "WBTC", 8)}
POOL_MAX_PRICE_AGE = 24 * 3600  # the demo feeds are refreshed by seed_demo; a day-old price is stale


def contract(node: Chain, name: str, address: str):
    """A web3 contract object for a compiled contract at `address`."""
    return node.w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact(name)["abi"])


def deploy_contract(node: Chain, *, deployer_key: str, name: str, args: tuple = ()) -> str:
    """Deploy one compiled contract and return its checksummed address."""
    compiled = artifact(name)
    factory = node.w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    data = factory.constructor(*args).data_in_transaction
    receipt = node.send_transaction(key=deployer_key, tx={"data": data})
    return Web3.to_checksum_address(receipt["contractAddress"])


def _constructor_args(name: str, *, admin: str, deployed: dict[str, str]) -> tuple:
    if name in ("LoyaltyToken", "AchievementBadge", "DemoDollar"):
        return (admin,)
    if name == "DemoPriceOracle":
        return (admin, ORACLE_DECIMALS, ORACLE_DESCRIPTION, ORACLE_INITIAL_ANSWER)
    if name in DEMO_FEEDS:
        return (admin, ORACLE_DECIMALS, *DEMO_FEEDS[name])
    if name in DEMO_TOKENS:
        return (admin, *DEMO_TOKENS[name])
    if name == "LendingPool":
        return (admin, deployed["DemoDollar"], deployed["DollarUsdOracle"], POOL_MAX_PRICE_AGE)
    return ()


def deploy_all(node: Chain, *, deployer_key: str, reuse: dict[str, str] | None = None) -> dict[str, str]:
    """Deploy every portal contract on `node` from `deployer_key` (admin and minter of the tokens, oracle owner).

    A contract named in `reuse` whose address holds code is kept, so a second run deploys nothing. Returns
    name -> checksummed address.
    """
    admin = Account.from_key(deployer_key).address
    deployed: dict[str, str] = {}
    for name in CONTRACT_NAMES:
        known = (reuse or {}).get(name)
        if known and node.get_code(known) and _depends_unchanged(name, known, node=node, deployed=deployed):
            deployed[name] = Web3.to_checksum_address(known)
            continue
        deployed[name] = deploy_contract(
            node,
            deployer_key=deployer_key,
            name=ARTIFACT_OF.get(name, name),
            args=_constructor_args(name, admin=admin, deployed=deployed),
        )
        log.debug("deployed %s at %s", name, deployed[name])
    return deployed


def _depends_unchanged(name: str, address: str, *, node: Chain, deployed: dict[str, str]) -> bool:
    """A reused LendingPool must lend the asset, priced by the feed, we use now."""
    if name != "LendingPool":
        return True
    pool = contract(node, name, address)
    try:
        return (
            pool.functions.asset().call() == deployed["DemoDollar"]
            and pool.functions.configOf(deployed["DemoDollar"]).call()[0] == deployed["DollarUsdOracle"]
        )
    except Exception:  # noqa: BLE001 — other code at that address: deploy afresh
        return False


def read_deployments(chain_id: int) -> dict[str, str]:
    """The addresses recorded for `chain_id` in the deployments file ({} when none)."""
    entry = _recorded(deployments_file()).get(str(chain_id), {})
    return dict(entry) if isinstance(entry, dict) else {}


_file_cache: dict[str, tuple[tuple[int, int, int], dict]] = {}


def _recorded(path) -> dict:
    """The whole deployments file, re-read only when it changes (tier badges look addresses up on every page)."""
    try:
        stat = path.stat()
    except OSError:
        return {}
    version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)  # every write replaces the file: a new inode
    cached = _file_cache.get(str(path))
    if cached and cached[0] == version:
        return cached[1]
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("ignoring unreadable %s", path)
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    _file_cache[str(path)] = (version, recorded)
    return recorded


def record_deployments(chain_id: int, addresses: dict[str, str]) -> None:
    """Write `addresses` for `chain_id` into the deployments file, keeping other chains' entries."""
    path = deployments_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    recorded = dict(_recorded(path))
    recorded[str(chain_id)] = dict(addresses)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def contract_address(name: str, *, chain_id: int | None = None) -> str | None:
    """The address of contract `name` on `chain_id` (default: the home chain), or None when it is not known.

    Settings first (`PORTAL["CONTRACTS"]`, home chain only), then the dev chain's deployments file.
    """
    try:
        home = home_chain_id()
    except ChainUnavailable:
        home = None
    if chain_id is None or chain_id == home:
        configured = portal_settings().contracts
        if configured.get(name):
            return Web3.to_checksum_address(configured[name])
        chain_id = home
    if chain_id is None:
        return None
    recorded = read_deployments(chain_id).get(name)
    return Web3.to_checksum_address(recorded) if recorded else None


def multicall_address(chain_id: int | None = None) -> str:
    """The Multicall3 to batch reads through: MULTICALL_ADDRESS, else the one deployed on that chain, else canonical."""
    configured = portal_settings().multicall_address
    if configured:
        return Web3.to_checksum_address(configured)
    return contract_address("Multicall3", chain_id=chain_id) or CANONICAL_MULTICALL3


__all__ = [
    "CANONICAL_MULTICALL3",
    "ARTIFACT_OF",
    "CONTRACT_NAMES",
    "contract",
    "contract_address",
    "deploy_all",
    "deploy_contract",
    "multicall_address",
    "read_deployments",
    "record_deployments",
]
