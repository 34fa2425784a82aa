"""The recount file pins each contract-wallet vote to the block its signature was verified at (number and hash), and
verify_proposal asks the wallet again there: a recount after the wallet's owner rotated still agrees, and a node that
cannot serve that block is told to be an archive node."""

from __future__ import annotations

import io
import json
import time
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command

from governance.chain import Chain, archive_node_sentence
from governance.deploy import contract, deploy_contract
from governance.devchain import free_port, start_anvil, stop_anvil
from governance.eip712 import BadSignature, SignedBallot, eip712_domain, sign_vote
from governance.models import Vote
from governance.recount import FORMAT, recount
from governance.signers import EIP1271, EOA

pytestmark = [pytest.mark.django_db, pytest.mark.chain]


@pytest.fixture
def wallet_vote(node, chain_snapshot, contracts, dev_accounts, minter, transact, make_proposal, ballot, post_vote):
    """An EIP-1271 wallet owned by #2 (with one badge of weight) and #1 vote on a basic proposal; then the wallet's
    owner rotates to #4, so the vote's signature no longer verifies at the head."""
    owner, successor, salt = dev_accounts[2], dev_accounts[4], b"\x0c" * 32
    factory = contract(node, "OwnerWalletFactory",
                       deploy_contract(node, deployer_key=minter.key.to_0x_hex(), name="OwnerWalletFactory"))
    address = factory.functions.predict(owner.address, salt).call()
    # The badge goes to the address before the wallet exists (the wallet takes no ERC-721 transfers).
    transact(minter, contract(node, "AchievementBadge", contracts["AchievementBadge"]), "award", address, 9)
    transact(owner, factory, "deploy", owner.address, salt)
    wallet = contract(node, "OwnerWallet", address)
    proposal = make_proposal("basic")
    body = ballot(owner, proposal, "2", reason="Too fast.", voter=address)
    assert post_vote(proposal.number, body).status_code == HTTPStatus.CREATED
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, "1")).status_code == HTTPStatus.CREATED
    answered = node.w3.eth.get_block("latest")  # the vote's check read the head; nothing was mined since
    transact(owner, wallet, "rotateOwner", successor.address)
    assert wallet.functions.owner().call() == successor.address
    return proposal, address, body, answered


def test_a_contract_wallet_vote_records_the_block_its_signature_was_verified_at(wallet_vote, dev_accounts):
    proposal, address, _body, answered = wallet_vote
    vote = Vote.objects.get(proposal=proposal, voter=address)
    assert (vote.signer_kind, vote.verified_block, vote.verified_block_hash) == (
        EIP1271, answered["number"], answered["hash"].to_0x_hex()
    )
    eoa = Vote.objects.get(proposal=proposal, voter=dev_accounts[1].address)
    assert (eoa.signer_kind, eoa.verified_block, eoa.verified_block_hash) == (EOA, None, "")


def test_after_the_owner_rotates_the_recount_agrees_at_the_pinned_block(wallet_vote, client, tmp_path, anvil_url, get_export):
    proposal, address, body, answered = wallet_vote
    # At the head the old owner's signature is refused now: without the pinned block the recount would disagree.
    signed = SignedBallot.from_fields(proposal=proposal.number, **body)
    with pytest.raises(BadSignature):
        signed.verify(domain=eip712_domain())
    export = json.loads(get_export(proposal.number)[1])
    (pinned,) = [v for v in export["votes"] if v["voter"] == address]
    assert (pinned["signer"], pinned["verified_block"], pinned["verified_block_hash"]) == (
        "eip1271", answered["number"], answered["hash"].to_0x_hex()
    )
    path = tmp_path / "recount.json"
    path.write_text(json.dumps(export))
    out = io.StringIO()
    call_command("verify_proposal", str(proposal.number), "--from-file", str(path), "--rpc", anvil_url, stdout=out)
    assert f"MATCH: the recount of {proposal.label} agrees" in out.getvalue()

    unpinned = json.loads(json.dumps(export))
    for vote in unpinned["votes"]:
        vote["verified_block"] = vote["verified_block_hash"] = None
    report = recount(unpinned, rpc_url=anvil_url)
    assert any(line.startswith(f"vote 1 ({address}): the signature does not verify") for line in report.differences)


def test_a_pinned_block_with_another_hash_is_reported(wallet_vote, client, tmp_path, get_export):
    proposal, address, _body, answered = wallet_vote
    export = json.loads(get_export(proposal.number)[1])
    forged = "0x" + "ab" * 32
    for vote in export["votes"]:
        if vote["voter"] == address:
            vote["verified_block_hash"] = forged
    path = tmp_path / "recount.json"
    path.write_text(json.dumps(export))
    out = io.StringIO()
    with pytest.raises(CommandError, match="does not match"):
        call_command("verify_proposal", str(proposal.number), "--from-file", str(path), stdout=out)
    assert (
        f"block {answered['number']} on this node is {answered['hash'].to_0x_hex()}, but the wallet answered at "
        f"{forged}: the node follows another chain, or that block was replaced."
    ) in out.getvalue()


def test_a_node_without_the_pinned_blocks_state_is_told_to_be_an_archive_node(dev_accounts, tmp_path):
    """On a full node that keeps only recent state (anvil --prune-history), the wallet cannot be asked at the block it
    answered at: the recount says so, naming the block, instead of checking at the head or failing with the node's
    own words."""
    port = free_port()
    process = start_anvil(port=port, prune_history=True)
    try:
        url = f"http://127.0.0.1:{port}"
        pruned = Chain(url)
        owner = dev_accounts[2]
        address = deploy_contract(pruned, deployer_key=owner.key.to_0x_hex(), name="OwnerWallet", args=(owner.address,))
        domain = {"name": "Portal Governance", "version": "1", "chainId": pruned.chain_id}
        ts = int(time.time())
        signature = sign_vote(private_key=owner.key.to_0x_hex(), domain=domain, voter=address, proposal=1,
                              choice="1", reason="", timestamp=ts)
        signed = SignedBallot.from_fields(voter=address, proposal=1, choice="1", reason="", timestamp=ts,
                                          signature=signature)
        answered = pruned.get_block("latest")
        pruned.w3.provider.make_request("anvil_mine", ["0x5"])
        export = {
            "format": FORMAT,
            "proposal": {"number": 1, "voting_type": "basic", "choices": ["For", "Against", "Abstain"],
                         "snapshot_block": answered["number"], "strategies": [], "quorum": "0"},
            "eip712": {"domain": domain},
            "result": {"choices": [], "total_weight": "0", "voters": 0, "outcome": "quorum_not_met"},
            "votes": [{"voter": address, "choice": "1", "reason": "", "timestamp": ts, "signature": signature,
                       "receipt": signed.receipt(domain=domain), "weight": "0", "signer": "eip1271",
                       "verified_block": answered["number"], "verified_block_hash": answered["hash"].to_0x_hex()}],
        }
        report = recount(export, rpc_url=url)
    finally:
        stop_anvil(process)
    assert (
        f"vote 1 ({address}): the wallet's signature could not be checked again "
        f"({archive_node_sentence(answered['number'])})"
    ) in report.differences
