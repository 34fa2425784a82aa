"""The EIP-712 envelope: what /api/v1/eip712 publishes is what is signed; EOA and EIP-1271 signers."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from governance.eip712 import BadSignature, SignedBallot, eip712_domain, sign_vote, typed_data, vote_digest
from portal.conf import portal_settings
from tests.oracles import viem


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


# Edge cases of each field: empty and long text, non-ASCII and astral characters, large numbers (JSON carries them
# to viem exactly up to 2**53; the hypothesis test below covers the whole uint256 and uint64 ranges).
VOTE_CASES = [
    {"choice": "1", "reason": "", "proposal": 1, "timestamp": 0},
    {"choice": "[3,1,2]", "reason": "Réserve ↑ — 💸 " * 40, "proposal": 2**53 - 1, "timestamp": 2**53 - 1},
    {"choice": "{\"1\":2,\"3\":1}", "reason": "line\nbreak\ttab \"quoted\" \\", "proposal": 7, "timestamp": 1_700_000_000},
    {"choice": "", "reason": "x" * 2000, "proposal": 10**15, "timestamp": 1},
]


@pytest.mark.parametrize("name", ["Portal Governance", "Gouvernance du prêt 🏦", "x"])
def test_the_vote_digest_is_viems_hash_and_the_generic_encoders(name, dev_accounts):
    """The receipt is hashed field by field with the constant type hashes; viem's hashTypedData (and the signer it
    recovers) and eth_account's generic encoder agree on every case."""
    account = Account.create()
    domain = eip712_domain(chain_id=31337, name=name)
    cases, ballots = [], []
    for fields in VOTE_CASES:
        signature = sign_vote(private_key=account.key.to_0x_hex(), domain=domain, voter=account.address, **fields)
        ballot = SignedBallot.from_fields(voter=account.address, signature=signature, **fields)
        ballots.append(ballot)
        cases.append({"typed": typed_data(domain=domain, message=ballot.message()), "signature": signature})
    for ballot, case, oracle in zip(ballots, cases, viem(cases), strict=True):
        generic = _hash_eip191_message(encode_typed_data(full_message=case["typed"]))
        assert ballot.receipt(domain=domain) == oracle["hash"] == "0x" + generic.hex()
        assert oracle["signer"] == account.address
        assert ballot.verify(domain=domain) == oracle["hash"]


@given(choice=st.text(max_size=50), reason=st.text(max_size=50), proposal=st.integers(0, 2**256 - 1),
       timestamp=st.integers(0, 2**64 - 1), chain_id=st.integers(0, 2**256 - 1))
@hypothesis_settings(max_examples=200, deadline=None)
def test_the_vote_digest_equals_the_generic_encoders_for_any_fields(choice, reason, proposal, timestamp, chain_id):
    domain = {"name": "Portal Governance", "version": "1", "chainId": chain_id}
    message = {"from": "0x" + "ab" * 20, "proposal": proposal, "choice": choice, "reason": reason, "timestamp": timestamp}
    try:
        generic = _hash_eip191_message(encode_typed_data(full_message=typed_data(domain=domain, message=message)))
    except UnicodeEncodeError:  # a lone surrogate: the generic encoder cannot hash it either
        with pytest.raises(BadSignature, match="is not valid Unicode text"):
            vote_digest(domain=domain, message=message)
        return
    assert vote_digest(domain=domain, message=message) == generic


@pytest.mark.parametrize("domain", [
    {"name": "Portal Governance", "version": "1", "chainId": "31337"},
    {"name": "Portal Governance", "version": "1", "chainId": 1, "verifyingContract": "0x" + "11" * 20},
    {"name": "Portal Governance", "chainId": 1},
])
def test_a_domain_of_another_shape_is_hashed_as_the_generic_encoder_does(domain):
    """A recount file may carry any domain: what is not CONTRACT's plain shape goes through eth_account's encoder."""
    message = {"from": "0x" + "ab" * 20, "proposal": 1, "choice": "1", "reason": "", "timestamp": 1}
    try:
        expected = _hash_eip191_message(encode_typed_data(full_message=typed_data(domain=domain, message=message)))
    except Exception as exc:  # the generic encoder's own refusal, unchanged
        with pytest.raises(type(exc)):
            vote_digest(domain=domain, message=message)
        return
    assert vote_digest(domain=domain, message=message) == expected
