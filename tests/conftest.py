"""Shared fixtures: one real anvil for the whole session, dev-key accounts, and chain snapshots per test."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from eth_account import Account

from governance import chain as chain_module
from governance.devchain import DEV_KEYS, free_port, start_anvil, stop_anvil


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
