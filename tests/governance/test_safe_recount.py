"""A real Safe 1.4.1 (npm @safe-global/safe-contracts: the singleton, its proxy factory and the
CompatibilityFallbackHandler that answers EIP-1271) votes with its owner's signature; then the owner is swapped out by
a Safe transaction. At the head the old owner's signature no longer counts, yet the recount agrees: it asks the Safe
again at the block the vote was verified at."""

from __future__ import annotations

import io
import json
import time
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.management import call_command
from eth_abi import encode
from web3 import Web3

from governance.deploy import contract
from governance.eip712 import BadSignature, SignedBallot, eip712_domain, typed_data
from governance.models import Vote
from governance.signers import EIP1271

pytestmark = [pytest.mark.django_db, pytest.mark.chain]

ARTIFACTS = Path(__file__).resolve().parents[2] / "node_modules/@safe-global/safe-contracts/build/artifacts/contracts"
SENTINEL = "0x0000000000000000000000000000000000000001"
ZERO = "0x" + "00" * 20


def safe_artifact(path: str) -> dict:
    return json.loads((ARTIFACTS / path).read_text())


def deploy(node, key: str, artifact: dict) -> str:
    receipt = node.send_transaction(key=key, tx={"data": artifact["bytecode"]})
    return Web3.to_checksum_address(receipt["contractAddress"])


def safe_signature(account, digest: bytes) -> str:
    """An owner's ECDSA signature of a hash the Safe checks (v = 27/28: checkSignatures' plain ECDSA form)."""
    signed = account.unsafe_sign_hash(digest)
    return "0x" + signed.r.to_bytes(32, "big").hex() + signed.s.to_bytes(32, "big").hex() + bytes([signed.v]).hex()


@pytest.fixture
def safe(node, chain_snapshot, settled_chain, dev_accounts, minter, transact):
    """A 1-of-1 Safe owned by #2, with one achievement badge (voting weight) awarded before it was deployed."""
    if not ARTIFACTS.exists():
        pytest.fail("npm @safe-global/safe-contracts is missing: run `npm ci`.", pytrace=False)
    key = minter.key.to_0x_hex()
    singleton = deploy(node, key, safe_artifact("Safe.sol/Safe.json"))
    factory_artifact = safe_artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json")
    factory = node.w3.eth.contract(address=deploy(node, key, factory_artifact), abi=factory_artifact["abi"])
    handler = deploy(node, key, safe_artifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"))
    safe_abi = safe_artifact("Safe.sol/Safe.json")["abi"]
    setup = node.w3.eth.contract(abi=safe_abi).encode_abi(
        "setup", args=[[dev_accounts[2].address], 1, ZERO, b"", handler, ZERO, 0, ZERO]
    )
    create = factory.functions.createProxyWithNonce(singleton, Web3.to_bytes(hexstr=setup), 41)
    address = create.call({"from": minter.address})
    transact(minter, contract(node, "AchievementBadge", settled_chain["AchievementBadge"]), "award", address, 11)
    node.send_transaction(key=key, tx={"to": factory.address, "data": create._encode_transaction_data()})
    return node.w3.eth.contract(address=address, abi=safe_abi), node.w3.eth.contract(
        address=address, abi=safe_artifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json")["abi"]
    )


def test_a_safe_votes_and_after_its_owner_is_swapped_the_recount_agrees(
    safe, node, dev_accounts, make_proposal, post_vote, client, tmp_path, anvil_url, fund, get_export,
):
    safe_contract, as_handler = safe
    owner, successor = dev_accounts[2], dev_accounts[4]
    assert safe_contract.functions.getOwners().call() == [owner.address]
    proposal = make_proposal("basic")
    message = {"from": safe_contract.address, "proposal": proposal.number, "choice": "1", "reason": "Safe says yes.",
               "timestamp": int(time.time())}
    ballot = SignedBallot.from_fields(voter=safe_contract.address, proposal=proposal.number, choice="1",
                                      reason="Safe says yes.", timestamp=message["timestamp"], signature="0x")
    receipt = bytes.fromhex(ballot.receipt(domain=eip712_domain())[2:])
    # The Safe's own EIP-712 SafeMessage hash over the vote's hash: what its owner signs (Safe{Wallet} does the same).
    safe_message = as_handler.functions.getMessageHashForSafe(safe_contract.address, encode(["bytes32"], [receipt])).call()
    body = {"voter": safe_contract.address, "choice": "1", "reason": "Safe says yes.", "timestamp": message["timestamp"],
            "signature": safe_signature(owner, safe_message)}
    response = post_vote(proposal.number, body)
    assert response.status_code == HTTPStatus.CREATED, response.json()
    vote = Vote.objects.get(proposal=proposal, voter=safe_contract.address)
    answered = node.w3.eth.get_block("latest")
    assert (vote.signer_kind, vote.verified_block, vote.verified_block_hash) == (
        EIP1271, answered["number"], answered["hash"].to_0x_hex())
    assert vote.payload == typed_data(domain=eip712_domain(), message=message)

    # swapOwner(#2 → #4), a Safe transaction signed by #2 and sent by #2.
    swap = safe_contract.encode_abi("swapOwner", args=[SENTINEL, owner.address, successor.address])
    nonce = safe_contract.functions.nonce().call()
    tx_hash = safe_contract.functions.getTransactionHash(
        safe_contract.address, 0, Web3.to_bytes(hexstr=swap), 0, 0, 0, 0, ZERO, ZERO, nonce).call()
    execute = safe_contract.encode_abi("execTransaction", args=[
        safe_contract.address, 0, Web3.to_bytes(hexstr=swap), 0, 0, 0, 0, ZERO, ZERO,
        Web3.to_bytes(hexstr=safe_signature(owner, tx_hash))])
    fund(owner.address)
    node.send_transaction(key=owner.key.to_0x_hex(), tx={"to": safe_contract.address, "data": execute})
    assert safe_contract.functions.getOwners().call() == [successor.address]

    signed = SignedBallot.from_fields(proposal=proposal.number, **body)
    with pytest.raises(BadSignature):
        signed.verify(domain=eip712_domain())  # at the head, #2 no longer speaks for the Safe
    path = tmp_path / "recount.json"
    path.write_text(get_export(proposal.number)[1].decode())
    out = io.StringIO()
    call_command("verify_proposal", str(proposal.number), "--from-file", str(path), "--rpc", anvil_url, stdout=out)
    assert f"MATCH: the recount of {proposal.label} agrees" in out.getvalue()
