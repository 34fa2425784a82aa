"""Blocks and their times: the snapshot block a proposal opens at, a block's timestamp, and the block of another
chain at a given time (for strategies on other chains)."""

from __future__ import annotations

from datetime import UTC, datetime

from governance.chain import chain
from portal.conf import portal_settings


def snapshot_fix(*, chain_id: int | None = None, confirmations: int | None = None) -> tuple[int, datetime]:
    """The snapshot for a proposal opening now: head minus the confirmation depth (PORTAL["SNAPSHOT_CONFIRMATIONS"],
    default 3; never below block 0) and that block's timestamp in UTC. Raises ChainUnavailable."""
    node = chain(chain_id)
    depth = confirmations if confirmations is not None else portal_settings().snapshot_confirmations
    depth = max(0, int(depth))
    block = max(node.block_number() - depth, 0)
    return block, block_time(node, block)


def block_time(node, block: int) -> datetime:
    return datetime.fromtimestamp(node.get_block(block)["timestamp"], tz=UTC)


_settled_blocks: dict[tuple[str, int], int] = {}


def block_at_time(*, chain_id: int, when: datetime) -> int:
    """The last block of `chain_id` whose timestamp is at or before `when` (0 when `when` precedes the chain)."""
    node = chain(chain_id)
    target = int(when.timestamp())
    key = (node.rpc_url, target)
    if key in _settled_blocks:
        return _settled_blocks[key]
    low, high = 0, node.block_number()
    if node.get_block(high)["timestamp"] <= target:
        return high  # not settled: a later block may still carry an earlier-or-equal timestamp on a lagging chain
    while low < high:  # invariant: block `high` is after `when`, every block below `low` is at or before it
        middle = (low + high) // 2
        if node.get_block(middle)["timestamp"] <= target:
            low = middle + 1
        else:
            high = middle
    found = max(low - 1, 0)
    if len(_settled_blocks) > 10_000:
        _settled_blocks.clear()
    _settled_blocks[key] = found
    return found
