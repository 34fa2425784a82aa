"""Batched contract reads through Multicall3's `aggregate3` (allowFailure = true).

Calls are split into chunks (PORTAL["WEIGHT_CHUNK_SIZE"], default 500) sent concurrently
(PORTAL["WEIGHT_READ_WORKERS"], default 4). A failing call, or one that returns no data, gives None for that call only.
The ABI is encoded and decoded by hand: for 10,000 calls that is several times faster than a generic encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from eth_utils import keccak
from web3 import Web3

from governance.chain import CallReverted, ChainUnavailable, chain
from governance.contracts import ArtifactMissing, artifact
from governance.deploy import multicall_address
from portal.conf import portal_settings

AGGREGATE3 = keccak(text="aggregate3((address,bool,bytes)[])")[:4]
_WORD = 32
_TRUE = (1).to_bytes(_WORD, "big")


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def word(value: int | str) -> bytes:
    """One ABI word: an unsigned integer or an address, left-padded to 32 bytes."""
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value.startswith(("0x", "0X")) else value).rjust(_WORD, b"\0")
    return value.to_bytes(_WORD, "big")


@dataclass(frozen=True, slots=True)
class Call:
    target: str  # checksummed or lower-case 0x address
    data: bytes


def encode_aggregate3(calls: Sequence[Call]) -> bytes:
    """`aggregate3(Call3[])` calldata with allowFailure = true for every call."""
    count = len(calls)
    heads: list[bytes] = []
    tails: list[bytes] = []
    offset = count * _WORD  # tuple offsets are relative to the start of the offsets block
    true_word = (1).to_bytes(_WORD, "big")
    data_offset = (3 * _WORD).to_bytes(_WORD, "big")
    for call in calls:
        padded = call.data + b"\0" * (-len(call.data) % _WORD)
        tail = b"".join(
            (word(call.target), true_word, data_offset, len(call.data).to_bytes(_WORD, "big"), padded)
        )
        heads.append(offset.to_bytes(_WORD, "big"))
        tails.append(tail)
        offset += len(tail)
    return b"".join((AGGREGATE3, word(_WORD), count.to_bytes(_WORD, "big"), *heads, *tails))


def decode_aggregate3(returned: bytes) -> list[bytes | None]:
    """The return data of each call, None where it failed or returned nothing."""
    uint = int.from_bytes  # inlined: this loop runs once per call of a 10,000-address recount
    base = uint(returned[0:_WORD], "big")
    count = uint(returned[base : base + _WORD], "big")
    start = base + _WORD
    results: list[bytes | None] = []
    append = results.append
    for head in range(start, start + count * _WORD, _WORD):
        at = start + uint(returned[head : head + _WORD], "big")
        if returned[at : at + _WORD] != _TRUE:
            append(None)
            continue
        data_at = at + uint(returned[at + _WORD : at + 2 * _WORD], "big")
        length = uint(returned[data_at : data_at + _WORD], "big")
        append(returned[data_at + _WORD : data_at + _WORD + length] if length else None)
    return results


def aggregate3(
    calls: Sequence[Call],
    *,
    chain_id: int | None = None,
    block: int | str = "latest",
    chunk_size: int | None = None,
    workers: int | None = None,
    multicall: str | None = None,
) -> list[bytes | None]:
    """Run `calls` on `chain_id` at `block` through Multicall3; one result per call, None where that call failed.

    Raises ChainUnavailable when the node cannot be reached or there is no Multicall3 at the configured address.
    """
    if not calls:
        return []
    node = chain(chain_id)
    target = Web3.to_checksum_address(multicall or multicall_address(chain_id))
    size = max(1, int(chunk_size or portal_settings().weight_chunk_size))
    chunks = [calls[at : at + size] for at in range(0, len(calls), size)]

    # Where the batch contract has no code at `block` (a snapshot older than its deployment, a chain without it), its
    # code is lent to the call through eth_call's state override, which geth, erigon, nethermind and anvil support.
    lend_code: dict = {}

    def run(chunk: Sequence[Call]) -> list[bytes | None]:
        return _aggregate_chunk(node, target, chunk, block, chain_id=chain_id, lend_code=lend_code)

    pool_size = min(len(chunks), max(1, int(workers or portal_settings().weight_read_workers)))
    if pool_size == 1:
        answers = [run(chunk) for chunk in chunks]
    else:
        with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="aggregate3") as pool:
            answers = list(pool.map(run, chunks))
    return [result for answer in answers for result in answer]


def _aggregate_chunk(
    node, target: str, chunk: Sequence[Call], block, *, chain_id, lend_code: dict
) -> list[bytes | None]:
    override = (
        dict(lend_code) or None
    )  # what this very call sends: other chunks may add to lend_code meanwhile
    try:
        returned = node.call_raw(
            to=target, data=encode_aggregate3(chunk), block=block, state_override=override
        )
    except CallReverted:
        # With allowFailure the batch itself fails only when it runs out of gas (a call that ate it all) — or when the
        # contract is no Multicall3 at all. Rule that out, then halve the batch until the culprit stands alone.
        _require_aggregate3(node, target, chain_id=chain_id, block=block, lend_code=lend_code)
        if len(chunk) == 1:
            return [None]
        middle = len(chunk) // 2
        return _aggregate_chunk(
            node, target, chunk[:middle], block, chain_id=chain_id, lend_code=lend_code
        ) + _aggregate_chunk(node, target, chunk[middle:], block, chain_id=chain_id, lend_code=lend_code)
    if not returned:
        if override or node.retrying("reading contract code", node.w3.eth.get_code, target, block):
            _explain_empty_answer(target, chain_id=chain_id, block=block, lent=bool(override))
        lend_code[target] = {"code": _multicall_runtime(target, chain_id=chain_id, block=block)}
        return _aggregate_chunk(node, target, chunk, block, chain_id=chain_id, lend_code=lend_code)
    results = decode_aggregate3(returned)
    if len(results) != len(chunk):
        raise ChainUnavailable(
            f"The batch-call contract at {target} answered {len(results)} of {len(chunk)} calls."
        )
    return results


def _require_aggregate3(node, target: str, *, chain_id, block, lend_code: dict) -> None:
    try:
        answer = node.call_raw(
            to=target, data=encode_aggregate3([]), block=block, state_override=lend_code or None
        )
        if decode_aggregate3(answer) == []:
            return
    except (CallReverted, ValueError, IndexError):
        pass
    where = f"chain {chain_id}" if chain_id is not None else "the portal's chain"
    raise ChainUnavailable(
        f"The contract at {target} on {where} is not a Multicall3 batch-call contract (aggregate3 failed), so weights "
        "cannot be read. Check MULTICALL_ADDRESS."
    )


def _multicall_runtime(target: str, *, chain_id, block) -> str:
    try:
        return artifact("Multicall3")["deployedBytecode"]
    except ArtifactMissing:
        _explain_empty_answer(target, chain_id=chain_id, block=block, lent=False)


def _explain_empty_answer(address: str, *, chain_id: int | None, block, lent: bool) -> None:
    where = f"chain {chain_id}" if chain_id is not None else "the portal's chain"
    if lent:
        raise ChainUnavailable(
            f"There is no Multicall3 batch-call contract at {address} on {where} at block {block}, and the node "
            "would not lend it through a state override, so weights cannot be read. Set MULTICALL_ADDRESS to a "
            "Multicall3 deployed before the snapshot."
        )
    raise ChainUnavailable(
        f"The batch-call contract at {address} on {where} returned nothing at block {block}."
    )
