"""Deployment and the demo chain: idempotent seeding, where addresses come from, the Multicall3 fallback."""

import io
import json

import pytest
from web3 import Web3

from governance.chain import chain
from governance.demo_chain import seed_chain
from governance.deploy import (
    CANONICAL_MULTICALL3,
    CONTRACT_NAMES,
    contract,
    contract_address,
    deploy_all,
    multicall_address,
    read_deployments,
    record_deployments,
)
from governance.devchain import deployments_file

pytestmark = pytest.mark.chain


def test_seed_chain_twice_reuses_everything(node, contracts, dev_accounts, chain_snapshot):
    out = io.StringIO()
    again = seed_chain(stdout=out)
    assert again == contracts
    text = out.getvalue()
    assert text.count("reused") == len(CONTRACT_NAMES) and "deployed" not in text
    assert "minted" not in text and "awarded" not in text and "lending pool" not in text
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    assert token.functions.balanceOf(dev_accounts[0].address).call() == 50_000 * 10**18
    assert all(token.functions.delegates(a.address).call() == a.address for a in dev_accounts)
    assert read_deployments(node.chain_id) == contracts


def test_seed_chain_redeploys_when_the_code_is_gone(node, contracts, chain_snapshot, tmp_path, monkeypatch):
    """A fresh anvil behind an old deployments file: recorded addresses without code are deployed again."""
    monkeypatch.setenv("DEVCHAIN_DIR", str(tmp_path))
    stale = "0x000000000000000000000000000000000000dEaD"
    record_deployments(node.chain_id, dict.fromkeys(CONTRACT_NAMES, stale))
    out = io.StringIO()
    addresses = seed_chain(stdout=out)
    assert stale not in addresses.values() and set(addresses) == set(CONTRACT_NAMES)
    assert all(node.get_code(address) for address in addresses.values())
    assert out.getvalue().count("deployed") == len(CONTRACT_NAMES)
    assert json.loads(deployments_file().read_text())[str(node.chain_id)] == addresses


def test_deploy_all_reuses_only_what_has_code(node, contracts, minter, stranger, chain_snapshot):
    reuse = {**contracts, "AchievementBadge": stranger.address}  # no code there
    addresses = deploy_all(node, deployer_key=minter.key.to_0x_hex(), reuse=reuse)
    assert addresses["LoyaltyToken"] == contracts["LoyaltyToken"]
    assert addresses["AchievementBadge"] not in (stranger.address, contracts["AchievementBadge"])


def test_seed_chain_without_a_node_writes_nothing(settings, tmp_path, monkeypatch):
    from governance.devchain import free_port

    monkeypatch.setenv("DEVCHAIN_DIR", str(tmp_path))
    settings.PORTAL = {**settings.PORTAL, "CHAIN_RPC_URL": f"http://127.0.0.1:{free_port()}"}
    out = io.StringIO()
    assert seed_chain(stdout=out, node=chain()) == {}
    assert "cannot be reached" in out.getvalue()
    assert not deployments_file().exists()


def test_contract_address_prefers_settings_then_the_file_of_this_chain(settings, node, tmp_path, monkeypatch):
    monkeypatch.setenv("DEVCHAIN_DIR", str(tmp_path))
    settings.PORTAL = {key: value for key, value in settings.PORTAL.items() if key != "CONTRACTS"}
    assert contract_address("LoyaltyToken") is None
    record_deployments(
        node.chain_id + 1, {"LoyaltyToken": "0x" + "11" * 20}
    )  # another chain's entry: never read
    assert contract_address("LoyaltyToken") is None
    record_deployments(node.chain_id, {"LoyaltyToken": "0x" + "22" * 20})
    assert contract_address("LoyaltyToken") == "0x" + "22" * 20
    assert contract_address("LoyaltyToken", chain_id=node.chain_id + 1) == "0x" + "11" * 20
    settings.PORTAL = {**settings.PORTAL, "CONTRACTS": {"LoyaltyToken": "0x" + "ab" * 20}}
    assert contract_address("LoyaltyToken") == Web3.to_checksum_address("0x" + "ab" * 20)
    assert contract_address("LendingPool") is None


def test_multicall_address_fallbacks(settings, node, tmp_path, monkeypatch):
    monkeypatch.setenv("DEVCHAIN_DIR", str(tmp_path))
    settings.PORTAL = {key: value for key, value in settings.PORTAL.items() if key != "CONTRACTS"}
    assert multicall_address() == CANONICAL_MULTICALL3
    record_deployments(node.chain_id, {"Multicall3": "0x" + "33" * 20})
    assert multicall_address() == "0x" + "33" * 20
    settings.PORTAL = {**settings.PORTAL, "MULTICALL_ADDRESS": "0x" + "44" * 20}
    assert multicall_address() == "0x" + "44" * 20


def test_an_unreadable_deployments_file_is_ignored(node, tmp_path, monkeypatch):
    monkeypatch.setenv("DEVCHAIN_DIR", str(tmp_path))
    deployments_file().write_text("{not json")
    assert read_deployments(node.chain_id) == {}
