"""The one signer check (governance.signers) on votes: EOA low-s only, EIP-1271 including the empty signature of a
message approved on-chain, EIP-6492 wallets not deployed yet — real contract wallets on anvil, real signatures."""

from __future__ import annotations

import time
from decimal import Decimal
from http import HTTPStatus

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from governance.deploy import contract, deploy_contract
from governance.eip712 import BadSignature, SignedBallot, eip712_domain, sign_vote, typed_data
from governance.signers import (
    EIP1271, EIP6492, EIP6492_SUFFIX, EOA, SECP256K1_N, MalleableSignature, NotSignedBy, WalletRefused, ecdsa_signer,
    eip55, signer_check,
)
from portal.conf import portal_settings


def high_s(signature: str) -> str:
    """The same ECDSA signature in its other (high-s) form: s → n − s and the recovery bit flipped."""
    raw = bytes.fromhex(signature[2:])
    s = int.from_bytes(raw[32:64], "big")
    v = raw[64]
    return "0x" + (raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v if v >= 27 else 1 - v])).hex()


def signed_ballot(account, *, voter=None, number=7, choice="1", signature=None) -> SignedBallot:
    ts = int(time.time())
    voter = voter or account.address
    signature = signature or sign_vote(
        private_key=account.key.to_0x_hex(), domain=eip712_domain(), voter=voter, proposal=number, choice=choice,
        reason="", timestamp=ts,
    )
    return SignedBallot.from_fields(voter=voter, proposal=number, choice=choice, reason="", timestamp=ts,
                                    signature=signature)


def digest_of(ballot: SignedBallot) -> bytes:
    return _hash_eip191_message(encode_typed_data(full_message=typed_data(domain=eip712_domain(), message=ballot.message())))


def eip6492_wrap(factory, owner_address: str, salt: bytes, inner: str) -> str:
    calldata = Web3.to_bytes(hexstr=factory.encode_abi("deploy", args=[owner_address, salt]))
    wrapped = encode(["address", "bytes", "bytes"], [factory.address, calldata, Web3.to_bytes(hexstr=inner)])
    return "0x" + (wrapped + EIP6492_SUFFIX).hex()


@pytest.fixture
def owner_wallet(node, chain_snapshot, dev_accounts):
    """An EIP-1271 wallet on anvil owned by dev account #2."""
    owner = dev_accounts[2]
    address = deploy_contract(node, deployer_key=owner.key.to_0x_hex(), name="OwnerWallet", args=(owner.address,))
    return contract(node, "OwnerWallet", address)


@pytest.fixture
def factory(node, chain_snapshot, dev_accounts):
    address = deploy_contract(node, deployer_key=dev_accounts[0].key.to_0x_hex(), name="OwnerWalletFactory")
    return contract(node, "OwnerWalletFactory", address)


def test_a_low_s_eoa_signature_proves_the_voter_without_a_contract_call(dev_accounts, node):
    ballot = signed_ballot(dev_accounts[1])
    assert int(ballot.signature[66:130], 16) <= SECP256K1_N // 2
    proof = signer_check(address=ballot.voter, digest=digest_of(ballot), signature=bytes.fromhex(ballot.signature[2:]))
    assert proof.kind == EOA and proof.block_number is None


def test_a_high_s_vote_signature_is_refused_with_a_sentence(dev_accounts, node):
    ballot = signed_ballot(dev_accounts[1])
    malleable = high_s(ballot.signature)
    # It is a genuine signature by the same key, only in the form EIP-2 forbids.
    assert Account._recover_hash(digest_of(ballot), signature=bytes.fromhex(malleable[2:])) == dev_accounts[1].address
    twin = signed_ballot(dev_accounts[1], signature=malleable)
    with pytest.raises(BadSignature, match="high-s form that EIP-2 forbids"):
        twin.verify(domain=eip712_domain())


@pytest.mark.django_db
def test_a_high_s_vote_is_answered_400_and_not_stored(make_proposal, ballot, post_vote, dev_accounts):
    from governance.models import Vote

    proposal = make_proposal("basic")
    body = ballot(dev_accounts[1], proposal, "1")
    response = post_vote(proposal.number, {**body, "signature": high_s(body["signature"])})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "high-s form that EIP-2 forbids" in response.json()["error"]
    assert not Vote.objects.exists()
    assert post_vote(proposal.number, body).status_code == HTTPStatus.CREATED  # the wallet's own form counts


def test_a_contract_wallet_answer_is_pinned_to_a_block(owner_wallet, dev_accounts, node):
    ballot = signed_ballot(dev_accounts[2], voter=owner_wallet.address)
    receipt, proof = ballot.check(domain=eip712_domain())
    head = node.w3.eth.get_block("latest")
    assert receipt == "0x" + digest_of(ballot).hex()
    assert (proof.kind, proof.block_number, proof.block_hash) == (EIP1271, head["number"], head["hash"].to_0x_hex())


def test_an_empty_signature_counts_for_a_vote_the_wallet_approved_on_chain(owner_wallet, dev_accounts, transact):
    owner = dev_accounts[2]
    ballot = signed_ballot(owner, voter=owner_wallet.address, signature="0x")
    with pytest.raises(BadSignature, match="does not match the voter"):
        ballot.verify(domain=eip712_domain())  # not approved yet
    transact(owner, owner_wallet, "signMessage", digest_of(ballot))  # SignMessageLib-style on-chain approval
    assert ballot.verify(domain=eip712_domain()) == "0x" + digest_of(ballot).hex()
    other = signed_ballot(owner, voter=owner_wallet.address, signature="0x", choice="2")
    with pytest.raises(BadSignature, match="does not match the voter"):
        other.verify(domain=eip712_domain())  # the approval covers that one vote only


def test_an_undeployed_eip6492_wallet_votes_and_nothing_is_deployed(factory, dev_accounts, node):
    owner, salt = dev_accounts[3], b"\x07" * 32
    counterfactual = factory.functions.predict(owner.address, salt).call()
    inner = signed_ballot(owner, voter=counterfactual)
    ballot = signed_ballot(owner, voter=counterfactual, signature=eip6492_wrap(factory, owner.address, salt, inner.signature))
    receipt, proof = ballot.check(domain=eip712_domain())
    assert receipt == "0x" + digest_of(ballot).hex() and proof.kind == EIP6492
    assert node.w3.eth.get_code(counterfactual) == b""  # simulated with eth_call, never sent


def test_an_eip6492_signature_with_a_strangers_inner_signature_is_refused(factory, dev_accounts, stranger, node):
    owner, salt = dev_accounts[3], b"\x08" * 32
    counterfactual = factory.functions.predict(owner.address, salt).call()
    inner = signed_ballot(stranger, voter=counterfactual)
    ballot = signed_ballot(owner, voter=counterfactual, signature=eip6492_wrap(factory, owner.address, salt, inner.signature))
    with pytest.raises(BadSignature, match="does not match the voter"):
        ballot.verify(domain=eip712_domain())


def test_an_eip6492_signature_still_counts_once_the_wallet_is_deployed(factory, dev_accounts, transact, node):
    owner, salt = dev_accounts[3], b"\x09" * 32
    counterfactual = factory.functions.predict(owner.address, salt).call()
    transact(owner, factory, "deploy", owner.address, salt)
    assert node.w3.eth.get_code(counterfactual) != b""
    inner = signed_ballot(owner, voter=counterfactual)
    ballot = signed_ballot(owner, voter=counterfactual, signature=eip6492_wrap(factory, owner.address, salt, inner.signature))
    assert ballot.check(domain=eip712_domain())[1].kind == EIP1271


@pytest.mark.django_db
def test_an_eip6492_vote_is_counted_with_the_wallets_weight(
    factory, dev_accounts, contracts, node, minter, transact, make_proposal, post_vote, chain_snapshot
):
    from governance.models import Vote

    owner, salt = dev_accounts[4], b"\x0a" * 32
    counterfactual = factory.functions.predict(owner.address, salt).call()
    transact(minter, contract(node, "AchievementBadge", contracts["AchievementBadge"]), "award", counterfactual, 7)
    proposal = make_proposal("basic")  # opened after the award: the badge counts at the snapshot
    inner = signed_ballot(owner, voter=counterfactual, number=proposal.number)
    signature = eip6492_wrap(factory, owner.address, salt, inner.signature)
    body = {"voter": counterfactual, "choice": "1", "reason": "", "timestamp": inner.timestamp, "signature": signature}
    response = post_vote(proposal.number, body)
    assert response.status_code == HTTPStatus.CREATED, response.json()
    vote = Vote.objects.get(proposal=proposal)
    assert vote.voter == counterfactual
    assert Decimal(response.json()["weight"]) == portal_settings().badge_weight  # one badge, no tokens
    assert node.w3.eth.get_code(counterfactual) == b""


def test_a_recount_asks_the_wallet_again_at_the_block_it_first_answered(owner_wallet, dev_accounts, transact, node):
    # An EIP-1271 answer can change later (the owner rotates keys, here: the wallet starts refusing); the block pinned
    # at the vote lets a recount get the same answer as the count did.
    ballot = signed_ballot(dev_accounts[2], voter=owner_wallet.address)
    digest, signature = digest_of(ballot), bytes.fromhex(ballot.signature[2:])
    proof = signer_check(address=owner_wallet.address, digest=digest, signature=signature)
    transact(dev_accounts[2], owner_wallet, "setRefuse", True)
    with pytest.raises(WalletRefused):
        signer_check(address=owner_wallet.address, digest=digest, signature=signature)
    again = signer_check(address=owner_wallet.address, digest=digest, signature=signature, at_block=proof.block_number)
    assert again == proof


def test_a_keys_own_signature_is_proven_without_asking_the_node():
    from governance.chain import Chain, ChainUnavailable
    from governance.devchain import free_port

    account = Account.create()
    digest = _hash_eip191_message(encode_typed_data(full_message=_any_typed_data()))
    signature = account.unsafe_sign_hash(digest).signature
    nowhere = Chain(f"http://127.0.0.1:{free_port()}", retries=1)  # nothing listens: any read would fail
    started = time.monotonic()
    assert signer_check(address=account.address, digest=digest, signature=bytes(signature), node=nowhere).kind == EOA
    assert time.monotonic() - started < 1
    with pytest.raises(ChainUnavailable) as refused:  # another key's signature needs the node (a contract wallet?)
        signer_check(address=Account.create().address, digest=digest, signature=bytes(signature), node=nowhere)
    assert "cannot be reached" in str(refused.value)


def _any_typed_data() -> dict:
    return typed_data(domain={"name": "Portal Governance", "version": "1", "chainId": 31337},
                      message={"from": "0x" + "11" * 20, "proposal": 1, "choice": "1", "reason": "", "timestamp": 1})


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(min_size=20, max_size=20), case=st.sampled_from(["lower", "upper", "eip55"]))
def test_eip55_spells_every_address_as_eth_utils_does(raw, case):
    expected = to_checksum_address(raw)
    spelling = {"lower": "0x" + raw.hex(), "upper": "0x" + raw.hex().upper(), "eip55": expected}[case]
    assert eip55(spelling) == expected


@pytest.mark.parametrize("text", ["", "0x", "0x" + "1" * 39, "0x" + "1" * 41, "1" * 42, "0x" + "g" * 40])
def test_eip55_refuses_what_is_not_an_address(text):
    with pytest.raises(ValueError, match="not a 0x-prefixed 40-hex-digit address"):
        eip55(text)


@settings(max_examples=25, deadline=None)
@given(key=st.integers(min_value=1, max_value=SECP256K1_N - 1), digest=st.binary(min_size=32, max_size=32))
def test_the_recovered_signer_is_eth_accounts(key, digest):
    account = Account.from_key(key.to_bytes(32, "big"))
    signature = bytes(account.unsafe_sign_hash(digest).signature)
    assert ecdsa_signer(digest, signature) == account.address == Account._recover_hash(digest, signature=signature)


def test_a_high_s_signature_is_refused_on_the_fast_path_without_the_node():
    from governance.chain import Chain
    from governance.devchain import free_port

    account = Account.create()
    digest = _hash_eip191_message(encode_typed_data(full_message=_any_typed_data()))
    malleable = bytes.fromhex(high_s(account.unsafe_sign_hash(digest).signature.to_0x_hex())[2:])
    assert Account._recover_hash(digest, signature=malleable) == account.address  # a valid signature otherwise
    nowhere = Chain(f"http://127.0.0.1:{free_port()}", retries=1)
    with pytest.raises(MalleableSignature, match="high-s form that EIP-2 forbids"):
        ecdsa_signer(digest, malleable)
    with pytest.raises(MalleableSignature, match="high-s form that EIP-2 forbids"):
        signer_check(address=account.address, digest=digest, signature=malleable, node=nowhere)


@pytest.mark.parametrize(
    "signature",
    [
        bytes(32) + (1).to_bytes(32, "big") + b"\x1b",  # r = 0
        SECP256K1_N.to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b",  # r = n
        (5).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b",  # x = 5 is on no point of the curve
        (1).to_bytes(32, "big") + bytes(32) + b"\x1b",  # s = 0
        (1).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1d",  # v = 29
        bytes(64),  # 64 bytes
    ],
    ids=["r-zero", "r-is-n", "r-off-curve", "s-zero", "v-29", "short"],
)
def test_what_is_no_ecdsa_signature_is_refused_with_a_sentence(signature):
    with pytest.raises(NotSignedBy, match="not a (valid|65-byte) ECDSA signature"):
        ecdsa_signer(bytes(32), signature)
