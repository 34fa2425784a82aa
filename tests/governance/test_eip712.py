"""The EIP-712 envelope: what /api/v1/eip712 publishes is what is signed; EOA and EIP-1271 signers."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

from governance.eip712 import BadSignature, SignedBallot, eip712_domain, sign_vote, typed_data
from portal.conf import portal_settings


def _ballot(account, *, voter=None, domain, choice="1", number=7):
    ts = int(time.time())
    voter = voter or account.address
    signature = sign_vote(private_key=account.key.to_0x_hex(), domain=domain, voter=voter, proposal=number,
                          choice=choice, reason="", timestamp=ts)
    return SignedBallot.from_fields(voter=voter, proposal=number, choice=choice, reason="", timestamp=ts, signature=signature)


@pytest.mark.django_db
def test_the_api_publishes_exactly_the_signed_domain_and_types(client, node, settings):
    answer = client.get("/api/v1/eip712").json()
    assert answer["primaryType"] == "Vote"
    assert answer["domain"] == {"name": portal_settings().governance_name, "version": "1", "chainId": node.chain_id}
    assert answer["types"]["Vote"] == [
        {"name": "from", "type": "address"},
        {"name": "proposal", "type": "uint256"},
        {"name": "choice", "type": "string"},
        {"name": "reason", "type": "string"},
        {"name": "timestamp", "type": "uint64"},
    ]


def test_receipt_is_the_eip712_hash_and_recovery_finds_the_signer(dev_accounts, node):
    domain = eip712_domain()
    ballot = _ballot(dev_accounts[1], domain=domain)
    receipt = ballot.verify(domain=domain)
    expected = _hash_eip191_message(encode_typed_data(full_message=typed_data(domain=domain, message=ballot.message())))
    assert receipt == "0x" + expected.hex()
    with pytest.raises(BadSignature):
        ballot.verify(domain={**domain, "name": "Another deployment"})


def test_an_eip1271_contract_wallet_signs_through_its_owner(dev_accounts, node, chain_snapshot):
    from governance.deploy import contract, deploy_contract

    owner = dev_accounts[1]
    wallet = deploy_contract(node, deployer_key=owner.key.to_0x_hex(), name="OwnerWallet", args=(owner.address,))
    domain = eip712_domain()
    ballot = _ballot(owner, voter=wallet, domain=domain)
    assert ballot.verify(domain=domain).startswith("0x")
    stranger_ballot = _ballot(Account.create(), voter=wallet, domain=domain)
    with pytest.raises(BadSignature):
        stranger_ballot.verify(domain=domain)
    refusing = contract(node, "OwnerWallet", wallet)
    node.send_transaction(key=owner.key.to_0x_hex(), tx={"to": wallet, "data": refusing.encode_abi("setRefuse", args=(True,))})
    with pytest.raises(BadSignature):
        ballot.verify(domain=domain)


@pytest.mark.django_db
def test_an_eip1271_wallet_vote_passes_the_signature_check_then_needs_weight(
    make_proposal, dev_accounts, node, client, chain_snapshot
):
    import json

    from governance.deploy import deploy_contract

    proposal = make_proposal("basic")
    owner = dev_accounts[2]
    wallet = deploy_contract(node, deployer_key=owner.key.to_0x_hex(), name="OwnerWallet", args=(owner.address,))
    ballot = _ballot(owner, voter=wallet, domain=eip712_domain(), number=proposal.number)
    body = {"voter": ballot.voter, "choice": ballot.choice, "reason": "", "timestamp": ballot.timestamp,
            "signature": ballot.signature}
    response = client.post(f"/api/v1/proposals/{proposal.number}/votes", json.dumps(body), content_type="application/json")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "had no voting power" in response.json()["error"]


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"voter": "not-an-address"}, "Ethereum address"),
        ({"timestamp": -1}, "unix seconds"),
        ({"timestamp": True}, "unix seconds"),
        ({"reason": "x" * 2001}, "at most 2000"),
        ({"signature": "abc"}, "0x-prefixed hex"),
    ],
)
def test_malformed_envelopes_are_refused(fields, sentence, dev_accounts):
    base = {"voter": dev_accounts[1].address, "proposal": 1, "choice": "1", "reason": "", "timestamp": 1, "signature": "0x00"}
    with pytest.raises(BadSignature, match=sentence):
        SignedBallot.from_fields(**{**base, **fields})
