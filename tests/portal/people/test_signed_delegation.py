"""Signed delegation (delegateBySig) against the real token on anvil: the portal prepares the token's EIP-712
Delegation from its ERC-5267 domain and the holder's nonce, a holder with no ETH signs it with eth_account, and
another account sends it; viem hashes and recovers the same typed data. Every bad signed delegation is a sentence,
checked before any wallet is asked, and the chain is left as it was."""

from __future__ import annotations

import json
import time
from http import HTTPStatus

import pytest
from eth_account import Account

from governance.chain import TransactionFailed
from governance.deploy import contract
from tests.oracles import viem

pytestmark = [pytest.mark.chain, pytest.mark.django_db]
TOKEN = 10**18


@pytest.fixture
def token(contracts, node):
    return contract(node, "LoyaltyToken", contracts["LoyaltyToken"])


@pytest.fixture
def holder(token, minter, transact, chain_snapshot):
    """A fresh key holding 700 LOYAL (self-delegated by its first mint) and no ETH at all."""
    account = Account.create()
    transact(minter, token, "mint", account.address, 700 * TOKEN)
    return account


def _prepare(client, holder, delegatee, days=7):
    return client.get("/api/v1/delegations/typed-data", {"holder": holder, "delegatee": delegatee, "days": days})


def _signed(client, account, delegatee, **changes) -> dict:
    typed = _prepare(client, account.address, delegatee).json()
    typed["message"].update(changes)
    signature = account.sign_typed_data(full_message=typed).signature
    return {
        "chain_id": typed["domain"]["chainId"], "token": typed["domain"]["verifyingContract"], "holder": account.address,
        "delegatee": delegatee, "nonce": typed["message"]["nonce"], "expiry": typed["message"]["expiry"],
        "v": signature[64], "r": "0x" + signature[:32].hex(), "s": "0x" + signature[32:64].hex(),
    }


def _check(client, payload):
    return client.get("/api/v1/delegations/check", payload)


def test_the_typed_data_is_the_tokens_own_domain_and_the_holders_nonce(client, holder, token, node):
    delegatee = Account.create().address
    answer = _prepare(client, holder.address, delegatee, days=3)
    assert answer.status_code == HTTPStatus.OK
    typed = answer.json()
    fields, name, version, chain_id, verifying, _salt, _ext = token.functions.eip712Domain().call()
    assert fields == b"\x0f"
    assert typed["domain"] == {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying}
    assert typed["domain"] == {"name": "Loyalty", "version": "1", "chainId": node.chain_id, "verifyingContract": token.address}
    assert typed["primaryType"] == "Delegation"
    assert typed["types"]["Delegation"] == [
        {"name": "delegatee", "type": "address"}, {"name": "nonce", "type": "uint256"}, {"name": "expiry", "type": "uint256"},
    ]
    assert typed["message"]["nonce"] == token.functions.nonces(holder.address).call() == 0
    assert 3 * 86_400 - 120 < typed["message"]["expiry"] - time.time() <= 3 * 86_400 + 120


def test_a_holder_without_eth_signs_and_another_account_sends_it(client, holder, token, node, dev_accounts):
    delegatee = dev_accounts[1].address
    assert node.w3.eth.get_balance(holder.address) == 0
    payload = _signed(client, holder, delegatee)
    checked = _check(client, payload)
    assert checked.status_code == HTTPStatus.OK, checked.json()
    answer = checked.json()
    assert answer["holder"] == holder.address and answer["delegatee"] == delegatee
    # viem agrees on the hash the holder signed and on who signed it
    typed = _prepare(client, holder.address, delegatee).json()
    typed["message"].update(nonce=payload["nonce"], expiry=payload["expiry"])
    signature = "0x" + payload["r"][2:] + payload["s"][2:] + f"{payload['v']:02x}"
    (oracle,) = viem([{"typed": typed, "signature": signature}])
    assert oracle == {"hash": answer["digest"], "signer": holder.address}
    # the contract itself accepts it: dev account #2 pays the gas
    receipt = node.send_transaction(key=dev_accounts[2].key.to_0x_hex(), tx={"to": token.address, "data": answer["calldata"]})
    assert receipt["status"] == 1
    assert token.functions.delegates(holder.address).call() == delegatee
    assert token.functions.nonces(holder.address).call() == 1
    # sent once, it is refused as used, before any wallet is asked
    again = _check(client, payload)
    assert again.status_code == HTTPStatus.CONFLICT
    assert "already been sent" in again.json()["error"]
    with pytest.raises(TransactionFailed):
        node.send_transaction(key=dev_accounts[2].key.to_0x_hex(), tx={"to": token.address, "data": answer["calldata"]})


@pytest.mark.parametrize(
    ("change", "status", "sentence"),
    [
        ({"expiry": int(time.time()) + 60}, HTTPStatus.UNPROCESSABLE_ENTITY, "was not made by"),  # not what was signed
        ({"chain_id": 1}, HTTPStatus.UNPROCESSABLE_ENTITY, "signed for chain 1, but the portal's loyalty token is on chain"),
        ({"token": "0x000000000000000000000000000000000000dEaD"}, HTTPStatus.UNPROCESSABLE_ENTITY, "signed for another token"),
        ({"nonce": 5}, HTTPStatus.UNPROCESSABLE_ENTITY, "was not made by"),  # the signature covers the nonce
        ({"delegatee": "0x90F79bf6EB2c4f870365E785982E1f101E93b906"}, HTTPStatus.UNPROCESSABLE_ENTITY, "was not made by"),
        ({"holder": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"}, HTTPStatus.UNPROCESSABLE_ENTITY, "was not made by"),
        ({"s": "0x" + "f" * 64}, HTTPStatus.UNPROCESSABLE_ENTITY, "high-s form"),
        ({"v": 29}, HTTPStatus.BAD_REQUEST, "v of the signature must be at most 28"),
        ({"r": "0x12"}, HTTPStatus.BAD_REQUEST, "r of the signature must be 0x followed by 64"),
        ({"holder": "vitalik.eth"}, HTTPStatus.BAD_REQUEST, "is not a wallet address"),
        ({"nonce": "-1"}, HTTPStatus.BAD_REQUEST, "must be a whole number"),
    ],
    ids=["other-expiry", "wrong-chain", "wrong-token", "other-nonce", "other-delegatee", "other-holder", "high-s", "bad-v",
         "short-r", "bad-holder", "negative-nonce"],
)
def test_a_bad_signed_delegation_is_a_sentence_and_changes_nothing(client, holder, token, dev_accounts, change, status, sentence):
    delegatee = dev_accounts[1].address
    payload = {**_signed(client, holder, delegatee), **change}
    answer = _check(client, payload)
    assert answer.status_code == status
    assert sentence in answer.json()["error"]
    assert token.functions.delegates(holder.address).call() == holder.address
    assert token.functions.nonces(holder.address).call() == 0


def test_an_expired_signature_the_contract_would_refuse_too(client, holder, token, node, dev_accounts):
    # Expired by the chain's own clock (anvil's time can lag the wall clock after a suite's snapshot reverts).
    chain_now = node.w3.eth.get_block("latest")["timestamp"]
    payload = _signed(client, holder, dev_accounts[1].address, expiry=min(int(time.time()), chain_now) - 60)
    assert _check(client, payload).status_code == HTTPStatus.GONE
    calldata = token.encode_abi("delegateBySig", args=(
        payload["delegatee"], payload["nonce"], payload["expiry"], payload["v"], bytes.fromhex(payload["r"][2:]),
        bytes.fromhex(payload["s"][2:]),
    ))
    with pytest.raises(TransactionFailed):
        node.send_transaction(key=dev_accounts[2].key.to_0x_hex(), tx={"to": token.address, "data": calldata})


def test_a_later_nonce_is_not_sendable_yet(client, holder, dev_accounts):
    payload = _signed(client, holder, dev_accounts[1].address, nonce=1)
    answer = _check(client, payload)
    assert answer.status_code == HTTPStatus.CONFLICT
    assert "cannot be sent yet: it is number 1" in answer.json()["error"]


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ({"days": "0"}, "must be at least 1"),
        ({"days": "366"}, "must be at most 365"),
        ({"days": "a week"}, "must be a whole number"),
        ({"delegatee": "0x1234"}, "is not a wallet address"),
    ],
    ids=["zero-days", "too-long", "words", "bad-delegatee"],
)
def test_preparing_with_bad_input_is_a_sentence(client, holder, dev_accounts, query, sentence):
    params = {"holder": holder.address, "delegatee": dev_accounts[1].address, "days": "7", **query}
    answer = client.get("/api/v1/delegations/typed-data", params)
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert sentence in answer.json()["error"]


def test_a_contract_wallet_is_told_to_send_a_transaction_instead(client, contracts, dev_accounts):
    answer = _prepare(client, contracts["LendingPool"], dev_accounts[1].address)
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert "is a contract wallet" in answer.json()["error"]
