"""Snapshot weights read ahead: when voting opens, the weights of everyone likely to vote — every address the
strategies' tokens ever sent to or delegated to up to the snapshot block, from the tokens' own events — are read in
one batched pass and stored (SnapshotWeight), so a vote normally needs no RPC. A voter who is not among them is read
at their vote, in one batched read, and stored too. The snapshot block is fixed: a stored weight is the weight."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from eth_hash.auto import keccak

from governance import selectors
from governance.chain import chain, home_chain_id
from governance.delegation import DELEGATE_CHANGED_TOPIC, ZERO_ADDRESS
from governance.models import Proposal, SnapshotWeight
from governance.strategies import Strategy, checksum, voting_weight, voting_weights
from portal.conf import portal_settings
from portal.effects.services import durable, effect_enqueue

log = logging.getLogger(__name__)

MAX_PREREAD = 20_000  # addresses read ahead per proposal; the rest are read at their vote
STORE_BATCH = 1_000

TRANSFER = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
DELEGATE_CHANGED = DELEGATE_CHANGED_TOPIC
DELEGATE_VOTES_CHANGED = "0x" + keccak(b"DelegateVotesChanged(address,uint256,uint256)").hex()
# Which indexed topic holds the address that may hold weight: Transfer's `to`, the new delegate, the delegate.
_ADDRESS_TOPIC = {TRANSFER: 2, DELEGATE_CHANGED: 3, DELEGATE_VOTES_CHANGED: 1}


def weights_store(*, proposal: Proposal, weights: dict[str, Decimal | None]) -> int:
    """Keep the weights read at `proposal`'s snapshot block (None = the read failed: not kept). Returns how many
    rows were new; a voter already stored keeps their row (the same weight: the block is fixed)."""
    rows = [
        SnapshotWeight(proposal=proposal, voter=voter, weight=format(weight, "f"))
        for voter, weight in weights.items()
        if weight is not None
    ]
    before = SnapshotWeight.objects.filter(proposal=proposal).count()
    for start in range(0, len(rows), STORE_BATCH):
        SnapshotWeight.objects.bulk_create(rows[start : start + STORE_BATCH], ignore_conflicts=True)
    return SnapshotWeight.objects.filter(proposal=proposal).count() - before


def likely_voters(*, strategies: list[Strategy], snapshot_block: int) -> list[str]:
    """Every address the strategies' home-chain token contracts sent tokens to or recorded as a delegate, from
    their events (PORTAL DELEGATION_FROM_BLOCK up to the snapshot block, DELEGATION_LOG_CHUNK blocks a request):
    checksummed, first seen first, at most MAX_PREREAD. Raises ChainUnavailable."""
    node, home, conf = chain(), home_chain_id(), portal_settings()
    step = max(1, conf.delegation_log_chunk)
    found: dict[str, None] = {}
    for address in dict.fromkeys(s.address for s in strategies if s.chain_id == home):
        for low in range(conf.delegation_from_block, snapshot_block + 1, step):
            logs = node.get_logs(
                address=address, topics=[[TRANSFER, DELEGATE_CHANGED, DELEGATE_VOTES_CHANGED]],
                from_block=low, to_block=min(snapshot_block, low + step - 1),
            )
            for entry in logs:
                topics = entry["topics"]
                index = _ADDRESS_TOPIC.get(topics[0])
                if index is None or len(topics) <= index:
                    continue
                holder = checksum("0x" + topics[index][-40:])
                if holder != ZERO_ADDRESS:
                    found[holder] = None
                if len(found) >= MAX_PREREAD:
                    return list(found)
    return list(found)


@durable(max_attempts=4, first_retry_seconds=30, lease_seconds=600, atomic=False)
def snapshot_weights_preread(*, proposal_id: int) -> int:
    """Read and store the snapshot weights of the proposal's likely voters in one batched pass (a background task
    queued when voting opens). Returns how many were stored. Raises ChainUnavailable (the task is retried)."""
    proposal = Proposal.objects.filter(pk=proposal_id).first()
    if proposal is None or proposal.snapshot_block is None:
        return 0
    strategies = [Strategy.from_json(s) for s in proposal.strategies]
    voters = likely_voters(strategies=strategies, snapshot_block=proposal.snapshot_block)
    if not voters:
        return 0
    weights = voting_weights(
        strategies=strategies, snapshot_block=proposal.snapshot_block, snapshot_time=proposal.snapshot_time,
        addresses=voters,
    )
    stored = weights_store(proposal=proposal, weights=weights)
    log.info("%s: %s snapshot weights read ahead", proposal.label, stored)
    return stored


def snapshot_weights_preread_later(*, proposal: Proposal) -> None:
    """Queue the read-ahead in the caller's transaction (it runs once the opening commits)."""
    effect_enqueue(snapshot_weights_preread, key=f"snapshot-weights:{proposal.pk}", proposal_id=proposal.pk)


def voter_weight(*, proposal: Proposal, address: str) -> Decimal:
    """The weight a vote counts with: the stored one, or read now (one batched read) and stored. Raises
    ChainUnavailable (nothing stored) and ValueError for a non-address."""
    stored = selectors.stored_snapshot_weight(proposal=proposal, address=address)
    if stored is not None:
        return stored
    voter = checksum(address)
    weight = voting_weight(
        strategies=[Strategy.from_json(s) for s in proposal.strategies], snapshot_block=proposal.snapshot_block,
        snapshot_time=proposal.snapshot_time, address=voter,
    )
    SnapshotWeight.objects.bulk_create(
        [SnapshotWeight(proposal=proposal, voter=voter, weight=format(weight, "f"))], ignore_conflicts=True
    )
    return weight
