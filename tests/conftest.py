"""Shared fixtures: one real anvil for the whole session, dev-key accounts, and chain snapshots per test."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from eth_account import Account

from governance import chain as chain_module
from governance.devchain import DEV_KEYS, free_port, start_anvil, stop_anvil


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's sync API leaves an event loop running that async tests must not inherit."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))


@pytest.fixture(scope="session", autouse=True)
def anvil_url():
    """A real anvil node for the whole test session; the portal's home chain points at it."""
    port = free_port()
    process = start_anvil(port=port)
    url = f"http://127.0.0.1:{port}"
    previous = dict(django_settings.PORTAL)
    django_settings.PORTAL["CHAIN_RPC_URL"] = url
    django_settings.PORTAL["CHAIN_ID"] = None
    chain_module._nodes.clear()
    yield url
    django_settings.PORTAL.clear()
    django_settings.PORTAL.update(previous)
    stop_anvil(process)


@pytest.fixture
def node(anvil_url):
    """The portal's chain object (governance.chain.chain()) on the test anvil."""
    return chain_module.chain()


@pytest.fixture
def chain_snapshot(node):
    """Undo every on-chain change a test makes (anvil's evm_snapshot / evm_revert)."""
    snapshot = node.w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    node.w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture(scope="session")
def dev_accounts():
    """eth_account LocalAccounts for anvil's dev accounts #0–#4 (#0 deployed the contracts and is an admin)."""
    return [Account.from_key(key) for key in DEV_KEYS]


@pytest.fixture
def stranger():
    """A fresh key with no tokens and no history."""
    return Account.create()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _devchain_dir(tmp_path_factory):
    """Deployments recorded during tests go to a temporary directory, never the dev chain's .devchain/."""
    import os

    previous = os.environ.get("DEVCHAIN_DIR")
    os.environ["DEVCHAIN_DIR"] = str(tmp_path_factory.mktemp("devchain"))
    yield
    if previous is None:
        os.environ.pop("DEVCHAIN_DIR", None)
    else:
        os.environ["DEVCHAIN_DIR"] = previous


@pytest.fixture(scope="session")
def contracts(anvil_url, _devchain_dir):
    """The portal's contracts on the test anvil, seeded like the demo chain (governance.demo_chain.seed_chain):
    #0–#4 hold 50,000 / 12,000 / 3,000 / 800 / 150 LOYAL, self-delegated; badges (x100 tokens each in the default
    strategies): #0 three, #1 two, #2 one; the lending pool has supply and borrows; the oracle has a price.
    Name -> checksummed address (LoyaltyToken, AchievementBadge, Multicall3, DemoPriceOracle, DemoDollar,
    LendingPool), also set as PORTAL["CONTRACTS"] so governance.deploy.contract_address() finds them."""
    import io

    from governance.demo_chain import seed_chain

    addresses = seed_chain(stdout=io.StringIO())
    django_settings.PORTAL["CONTRACTS"] = dict(addresses)
    yield addresses
    django_settings.PORTAL.pop("CONTRACTS", None)


@pytest.fixture
def minter(dev_accounts):
    """Anvil #0: deployer, admin and minter of the loyalty token and badges, owner of the oracle."""
    return dev_accounts[0]


@pytest.fixture
def transact(node):
    """`transact(account, contract, "fn", *args)`: sign and send a contract call with an eth_account account; returns
    the receipt, raises governance.chain.TransactionFailed when it reverts."""

    def send(account, contract, function: str, *args):
        return node.send_transaction(
            key=account.key.to_0x_hex(), tx={"to": contract.address, "data": contract.encode_abi(function, args=args)}
        )

    return send


@pytest.fixture
def fund(node):
    """`fund(address)`: give an address 10 ETH on the test anvil so it can send transactions."""

    def give(address: str, wei: int = 10 * 10**18):
        node.w3.provider.make_request("anvil_setBalance", [address, hex(wei)])

    return give
