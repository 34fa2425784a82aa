"""Delegation of the loyalty token (ERC20Votes), as the chain tells it.

Who delegates to whom, and since which block, comes from the token's `DelegateChanged(delegator, from, to)` events,
read through governance.chain and folded into an index kept in the cache: each read asks only for the blocks after
the last one it saw (and starts over when that block's hash changed: a reorg, or a dev chain reverted). Voting power
now is `getVotes(delegate)` and badges are `balanceOf(holder)`, read in one Multicall3 batch each.

A delegation to the zero address removes the holder's votes (their tokens count for nobody); it is kept in the
index as `ZERO_ADDRESS` and never listed as a delegate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from eth_hash.auto import keccak

from governance.batch import Call, aggregate3, selector, word
from governance.chain import chain
from governance.deploy import contract_address
from governance.strategies import checksum, tidy, to_units
from portal.conf import portal_settings

log = logging.getLogger(__name__)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DELEGATE_CHANGED_TOPIC = "0x" + keccak(b"DelegateChanged(address,address,address)").hex()
DELEGATE = selector("delegate(address)")
GET_VOTES = selector("getVotes(address)")
BALANCE_OF = selector("balanceOf(address)")
INDEX_CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Delegation:
    """`delegator` has delegated to `delegate` (ZERO_ADDRESS: to nobody) in block `since_block`."""

    delegator: str
    delegate: str
    since_block: int


def token_address() -> str | None:
    """The loyalty token whose delegation the portal shows (None when it is not deployed)."""
    return contract_address("LoyaltyToken")


def delegate_calldata(delegate: str) -> str:
    """`delegate(address)` calldata as 0x-hex, what the browser asks the wallet to send to the token."""
    return "0x" + (DELEGATE + word(checksum(delegate))).hex()


def delegation_index() -> dict[str, Delegation]:
    """Every holder's current delegation, keyed by checksummed delegator. Raises ChainUnavailable.

    Empty when the token is not deployed."""
    node = chain()
    head = node.block_number()  # first: a node that cannot be reached is a ChainUnavailable, not "no token"
    token = token_address()
    if not token:
        return {}
    key = f"delegation-index:{node.rpc_url}:{token.lower()}"
    saved = cache.get(key)
    start = portal_settings().delegation_from_block
    rows: dict[str, list] = {}
    if saved and saved["scanned"] <= head and _block_hash(node, saved["scanned"]) == saved["hash"]:
        rows, start = saved["rows"], saved["scanned"] + 1
    step = max(1, portal_settings().delegation_log_chunk)
    for low in range(start, head + 1, step):
        high = min(low + step - 1, head)
        for event in node.get_logs(address=token, topics=[DELEGATE_CHANGED_TOPIC], from_block=low, to_block=high):
            topics = event["topics"]
            delegator = checksum("0x" + topics[1][-40:])
            rows[delegator] = [checksum("0x" + topics[3][-40:]), int(event["blockNumber"], 16)]
    cache.set(key, {"scanned": head, "hash": _block_hash(node, head), "rows": rows}, INDEX_CACHE_SECONDS)
    return {
        delegator: Delegation(delegator=delegator, delegate=delegate, since_block=block)
        for delegator, (delegate, block) in rows.items()
    }


def _block_hash(node, block: int) -> str:
    found = node.get_block(block)
    return found["hash"].to_0x_hex() if hasattr(found["hash"], "to_0x_hex") else str(found["hash"])


def delegators_of(index: dict[str, Delegation]) -> dict[str, list[Delegation]]:
    """Delegate -> the others who delegate to them (a holder's delegation to themselves is not counted), oldest
    first. Self-delegated holders appear with an empty list; the zero address never appears."""
    received: dict[str, list[Delegation]] = {}
    for delegation in index.values():
        if delegation.delegate == ZERO_ADDRESS:
            continue
        entries = received.setdefault(delegation.delegate, [])
        if delegation.delegate != delegation.delegator:
            entries.append(delegation)
    for entries in received.values():
        entries.sort(key=lambda d: (d.since_block, d.delegator))
    return received


def votes_now(addresses: list[str]) -> dict[str, Decimal | None]:
    """`getVotes` of each address at the head block, in token units (None where the read failed). Raises
    ChainUnavailable."""
    return _token_amounts(token_address(), GET_VOTES, addresses, decimals=18)


def badges_of(addresses: list[str]) -> dict[str, int | None]:
    """How many achievement badges each address holds now (None where the read failed or there is no badge
    contract). Raises ChainUnavailable."""
    amounts = _token_amounts(contract_address("AchievementBadge"), BALANCE_OF, addresses, decimals=0)
    return {address: None if amount is None else int(amount) for address, amount in amounts.items()}


def _token_amounts(token: str | None, function: bytes, addresses: list[str], *, decimals: int):
    wanted = list(dict.fromkeys(checksum(address) for address in addresses))
    if not token or not wanted:
        return dict.fromkeys(wanted)
    results = aggregate3([Call(token, function + word(address)) for address in wanted])
    amounts = {}
    for address, returned in zip(wanted, results, strict=True):
        if returned is None or len(returned) < 32:
            amounts[address] = None
        else:
            amounts[address] = tidy(to_units(int.from_bytes(returned[:32], "big"), decimals=decimals))
    return amounts
