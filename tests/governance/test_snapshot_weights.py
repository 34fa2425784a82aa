"""Snapshot weights read ahead when voting opens (holders and delegates from the token's events), so a vote needs no
RPC; a voter who was missed is read once at their vote. A stored weight is the weight at the snapshot block."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from governance import selectors
from governance.deploy import contract
from governance.eip712 import SignedBallot
from governance.models import SnapshotWeight, Vote
from governance.services import vote_cast
from governance.services import weights as weight_reads
from governance.services.weights import likely_voters, snapshot_weights_preread
from governance.strategies import Strategy, voting_weights
from portal.effects.models import Effect

pytestmark = pytest.mark.chain


@pytest.fixture
def chain_reads(monkeypatch):
    """Every weight the vote path reads from the chain (the real read, counted)."""
    calls: list[str] = []
    real = weight_reads.voting_weight

    def counted(**kwargs):
        calls.append(kwargs["address"])
        return real(**kwargs)

    monkeypatch.setattr(weight_reads, "voting_weight", counted)
    return calls


def _at_snapshot(proposal, addresses) -> dict:
    return voting_weights(
        strategies=[Strategy.from_json(s) for s in proposal.strategies], snapshot_block=proposal.snapshot_block,
        snapshot_time=proposal.snapshot_time, addresses=addresses,
    )


def test_opening_voting_queues_the_read_ahead_once(make_proposal):
    proposal = make_proposal("basic")
    assert Effect.objects.filter(key=f"snapshot-weights:{proposal.pk}").count() == 1


def test_the_read_ahead_finds_every_holder_and_stores_the_weight_at_the_snapshot_block(make_proposal, dev_accounts):
    proposal = make_proposal("basic")
    strategies = [Strategy.from_json(s) for s in proposal.strategies]
    holders = likely_voters(strategies=strategies, snapshot_block=proposal.snapshot_block)
    assert {a.address for a in dev_accounts} <= set(holders)
    assert snapshot_weights_preread(proposal_id=proposal.pk) == len(holders)
    stored = dict(SnapshotWeight.objects.filter(proposal=proposal).values_list("voter", "weight"))
    assert stored == {voter: format(weight, "f") for voter, weight in _at_snapshot(proposal, holders).items()}
    assert snapshot_weights_preread(proposal_id=proposal.pk) == 0  # again: nothing new, nothing changed


def test_a_vote_after_the_read_ahead_needs_no_rpc_and_counts_the_snapshot_weight(
    make_proposal, ballot, dev_accounts, minter, node, transact, chain_snapshot, chain_reads
):
    proposal = make_proposal("basic")
    snapshot_weights_preread(proposal_id=proposal.pk)
    voter = dev_accounts[4]
    # after the snapshot the voter gets more tokens: the vote still counts the weight at the snapshot block
    token = contract(node, "LoyaltyToken", proposal.strategies[0]["address"])
    transact(minter, token, "mint", voter.address, 5_000 * 10**18)
    vote = vote_cast(proposal=proposal, ballot=SignedBallot.from_fields(proposal=proposal.number, **ballot(voter, proposal, 1)))
    assert chain_reads == []
    assert vote.weight_amount == _at_snapshot(proposal, [voter.address])[voter.address]


def test_a_voter_the_read_ahead_missed_is_read_once_and_stored(make_proposal, ballot, dev_accounts, chain_reads):
    proposal = make_proposal("approval", ["A", "B", "C"])
    voter = dev_accounts[1]
    first = SignedBallot.from_fields(proposal=proposal.number, **ballot(voter, proposal, [1]))
    vote_cast(proposal=proposal, ballot=first)
    assert chain_reads == [voter.address]
    expected = _at_snapshot(proposal, [voter.address])[voter.address]
    assert selectors.stored_snapshot_weight(proposal=proposal, address=voter.address.lower()) == expected
    again = SignedBallot.from_fields(
        proposal=proposal.number, **ballot(voter, proposal, [2], timestamp=first.timestamp + 1)
    )
    vote_cast(proposal=proposal, ballot=again)
    assert chain_reads == [voter.address]  # the replacement used the stored weight
    assert Vote.objects.get(proposal=proposal).weight_amount == expected


def test_a_voter_without_weight_is_still_refused_on_the_fast_path(make_proposal, ballot, stranger, post_vote):
    proposal = make_proposal("basic")
    snapshot_weights_preread(proposal_id=proposal.pk)
    answer = post_vote(proposal.number, ballot(stranger, proposal, 1))
    assert answer.status_code == HTTPStatus.UNPROCESSABLE_ENTITY and "had no voting power" in answer.json()["error"]
    assert not Vote.objects.filter(proposal=proposal).exists()
