"""Contract wallets sign in too: EIP-1271 (deployed) and EIP-6492 (not deployed yet), checked on the real anvil."""

from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount
from eth_abi import encode
from web3 import Web3

from governance.contracts import artifact
from portal.accounts.models import User

from .conftest import fetch_nonce, post_login, sign, siwe_text

pytestmark = pytest.mark.django_db

EIP6492_SUFFIX = bytes.fromhex("6492" * 16)


def deploy(node, name: str, *args, sender: str):
    spec = artifact(name)
    contract = node.w3.eth.contract(abi=spec["abi"], bytecode=spec["bytecode"])
    receipt = node.w3.eth.wait_for_transaction_receipt(contract.constructor(*args).transact({"from": sender}))
    return node.w3.eth.contract(address=receipt.contractAddress, abi=spec["abi"])


@pytest.fixture
def owner_wallet(node, chain_snapshot, dev_accounts):
    """An EIP-1271 wallet on anvil whose owner is dev account #3."""
    return deploy(node, "OwnerWallet", dev_accounts[3].address, sender=dev_accounts[3].address)


def test_eip1271_wallet_signs_in(siwe_client, owner_wallet, dev_accounts):
    text = siwe_text(address=owner_wallet.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(dev_accounts[3], text)})
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["address"] == owner_wallet.address
    assert SocialAccount.objects.get().uid == owner_wallet.address


def test_eip1271_wallet_that_says_no(siwe_client, owner_wallet, dev_accounts, node):
    node.w3.eth.wait_for_transaction_receipt(owner_wallet.functions.setRefuse(True).transact({"from": dev_accounts[3].address}))
    text = siwe_text(address=owner_wallet.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(dev_accounts[3], text)})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "The wallet's contract did not accept this signature."
    assert not User.objects.exists() and "_auth_user_id" not in siwe_client.session


def test_eip1271_wallet_with_a_strangers_signature(siwe_client, owner_wallet, stranger):
    text = siwe_text(address=owner_wallet.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(stranger, text)})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not User.objects.exists()


def _eip6492_signature(factory, owner, salt: bytes, inner: str) -> str:
    calldata = factory.encode_abi("deploy", args=[owner.address, salt])
    wrapped = encode(["address", "bytes", "bytes"], [factory.address, Web3.to_bytes(hexstr=calldata), Web3.to_bytes(hexstr=inner)])
    return "0x" + (wrapped + EIP6492_SUFFIX).hex()


def test_eip6492_undeployed_wallet_signs_in(siwe_client, node, chain_snapshot, dev_accounts):
    owner = dev_accounts[2]
    factory = deploy(node, "OwnerWalletFactory", sender=dev_accounts[0].address)
    salt = b"\x01" * 32
    counterfactual = factory.functions.predict(owner.address, salt).call()
    assert node.w3.eth.get_code(counterfactual) == b""
    text = siwe_text(address=counterfactual, nonce=fetch_nonce(siwe_client))
    signature = _eip6492_signature(factory, owner, salt, sign(owner, text))
    response = post_login(siwe_client, {"message": text, "signature": signature})
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["address"] == counterfactual
    assert node.w3.eth.get_code(counterfactual) == b""  # verified by simulation, nothing deployed


def test_eip6492_with_a_strangers_inner_signature(siwe_client, node, chain_snapshot, dev_accounts, stranger):
    owner = dev_accounts[2]
    factory = deploy(node, "OwnerWalletFactory", sender=dev_accounts[0].address)
    salt = b"\x02" * 32
    counterfactual = factory.functions.predict(owner.address, salt).call()
    text = siwe_text(address=counterfactual, nonce=fetch_nonce(siwe_client))
    signature = _eip6492_signature(factory, owner, salt, sign(stranger, text))
    response = post_login(siwe_client, {"message": text, "signature": signature})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not User.objects.exists()
