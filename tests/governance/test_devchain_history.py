"""The local chain keeps its history across restarts, and a block the node cannot read is one archive-node sentence."""

from __future__ import annotations

import pytest
from eth_abi import encode
from web3 import Web3

from governance.chain import Chain, ChainUnavailable, archive_node_sentence
from governance.devchain import DEV_KEYS, free_port, start_anvil, stop_anvil

pytestmark = pytest.mark.chain

BALANCE = Web3.to_checksum_address("0x" + "ab" * 20)


def _balance_at(node: Chain, block: int) -> int:
    return node.w3.eth.get_balance(BALANCE, block)


def test_second_make_run_reads_blocks_from_before_the_restart(tmp_path):
    """A second `make run` restarts anvil from .devchain/state.json: the snapshot block of an open proposal (here
    the block of a transfer) still reads, instead of "BlockOutOfRangeError: block height is 34 but requested was 31"."""
    state = tmp_path / "state.json"
    port = free_port()
    anvil = start_anvil(port=port, state_file=state)
    try:
        node = Chain(f"http://127.0.0.1:{port}")
        for _ in range(3):
            node.send_transaction(key=DEV_KEYS[0], tx={"to": BALANCE, "value": 10**18})
        snapshot_block = node.block_number() - 1
        before = _balance_at(node, snapshot_block)
        node.send_transaction(key=DEV_KEYS[0], tx={"to": BALANCE, "value": 10**18})
    finally:
        stop_anvil(anvil)
    assert state.exists()
    anvil = start_anvil(port=port, state_file=state)
    try:
        node = Chain(f"http://127.0.0.1:{port}")
        assert before == 2 * 10**18
        assert _balance_at(node, snapshot_block) == before
        assert _balance_at(node, snapshot_block + 1) == 3 * 10**18
        # The same read the strategies make (eth_call at the snapshot block) answers too.
        assert node.call_raw(to=BALANCE, data=b"", block=snapshot_block) == b""
    finally:
        stop_anvil(anvil)


def test_block_out_of_range_is_the_archive_node_sentence(node):
    """anvil says "BlockOutOfRangeError: block height is N but requested was M"; the portal says one sentence."""
    missing = node.block_number() + 50
    data = bytes.fromhex("70a08231") + encode(["address"], [BALANCE])  # balanceOf(address)
    with pytest.raises(ChainUnavailable) as refused:
        node.call_raw(to=BALANCE, data=data, block=missing)
    assert refused.value.message == archive_node_sentence(missing)
    assert refused.value.message == (
        f"The blockchain node cannot read the state at block {missing}: it does not keep old blocks. "
        "Point CHAIN_RPC_URL at an archive node."
    )
