"""Contract wallets sign in too: EIP-1271 (deployed, also with `0x` for a message approved on-chain) and EIP-6492 (not
deployed yet), checked on the real anvil; EOAs only in the low-s form (EIP-2)."""

from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount
from eth_abi import encode
from eth_account.messages import _hash_eip191_message, encode_defunct
from web3 import Web3

from governance.deploy import contract, deploy_contract
from portal.accounts.models import User

from .conftest import fetch_nonce, post_login, sign, siwe_text

pytestmark = [pytest.mark.django_db, pytest.mark.chain]  # the nonce and the message carry the chain id

EIP6492_SUFFIX = bytes.fromhex("6492" * 16)


def deploy(node, name: str, *args, deployer):
    """Deploy a contract with an eth_account key; the web3 contract object."""
    return contract(node, name, deploy_contract(node, deployer_key=deployer.key.to_0x_hex(), name=name, args=args))


@pytest.fixture
def owner_wallet(node, chain_snapshot, dev_accounts):
    """An EIP-1271 wallet on anvil whose owner is dev account #3."""
    return deploy(node, "OwnerWallet", dev_accounts[3].address, deployer=dev_accounts[3])


def test_eip1271_wallet_signs_in(siwe_client, owner_wallet, dev_accounts):
    text = siwe_text(address=owner_wallet.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(dev_accounts[3], text)})
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["address"] == owner_wallet.address
    assert SocialAccount.objects.get().uid == owner_wallet.address


def test_eip1271_wallet_that_says_no(siwe_client, owner_wallet, dev_accounts, node):
    node.send_transaction(
        key=dev_accounts[3].key.to_0x_hex(),
        tx={"to": owner_wallet.address, "data": owner_wallet.encode_abi("setRefuse", args=[True])},
    )
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
    factory = deploy(node, "OwnerWalletFactory", deployer=dev_accounts[0])
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
    factory = deploy(node, "OwnerWalletFactory", deployer=dev_accounts[0])
    salt = b"\x02" * 32
    counterfactual = factory.functions.predict(owner.address, salt).call()
    text = siwe_text(address=counterfactual, nonce=fetch_nonce(siwe_client))
    signature = _eip6492_signature(factory, owner, salt, sign(stranger, text))
    response = post_login(siwe_client, {"message": text, "signature": signature})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not User.objects.exists()


def test_a_high_s_sign_in_signature_is_refused_with_a_sentence(siwe_client, dev_accounts, node):
    from tests.governance.test_signers import high_s

    text = siwe_text(address=dev_accounts[1].address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": high_s(sign(dev_accounts[1], text))})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "high-s form that EIP-2 forbids" in response.json()["error"]
    assert not User.objects.exists() and "_auth_user_id" not in siwe_client.session


def test_a_message_the_wallet_approved_on_chain_signs_in_with_0x(siwe_client, owner_wallet, dev_accounts, node):
    # What Safe{Wallet} does for a multi-owner Safe: SignMessageLib marks the message's hash, the signature is `0x`.
    text = siwe_text(address=owner_wallet.address, nonce=fetch_nonce(siwe_client))
    node.send_transaction(
        key=dev_accounts[3].key.to_0x_hex(),
        tx={"to": owner_wallet.address, "data": owner_wallet.encode_abi("signMessage", args=[_eip191_hash(text)])},
    )
    response = post_login(siwe_client, {"message": text, "signature": "0x"})
    assert response.status_code == HTTPStatus.OK, response.json()
    assert SocialAccount.objects.get().uid == owner_wallet.address


def test_0x_for_a_message_the_wallet_never_approved_is_refused(siwe_client, owner_wallet):
    text = siwe_text(address=owner_wallet.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": "0x"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "The wallet's contract did not accept this signature."
    assert not User.objects.exists()


def test_0x_from_a_plain_key_is_refused(siwe_client, dev_accounts, node):
    text = siwe_text(address=dev_accounts[1].address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": "0x"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "not made by the wallet named in the message" in response.json()["error"]
    assert not User.objects.exists()


def _eip191_hash(text: str) -> bytes:
    return _hash_eip191_message(encode_defunct(text=text))
