"""Batched reads through aggregate3 on a real anvil: encoding, chunking, and failures that stay local."""

import pytest
from eth_abi import decode, encode

from governance.batch import (
    AGGREGATE3,
    Call,
    aggregate3,
    decode_aggregate3,
    encode_aggregate3,
    selector,
    word,
)
from governance.chain import ChainUnavailable
from governance.deploy import contract, deploy_contract

pytestmark = pytest.mark.chain
BALANCE_OF = selector("balanceOf(address)")


def balance_call(token: str, holder: str) -> Call:
    return Call(token, BALANCE_OF + word(holder))


def test_hand_encoding_matches_the_abi():
    calls = [
        Call("0x5FbDB2315678afecb367f032d93F642f64180aa3", b"\x01\x02\x03"),
        Call("0x0000000000000000000000000000000000000001", b""),
        Call("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", bytes(range(70))),
    ]
    expected = AGGREGATE3 + encode(["(address,bool,bytes)[]"], [[(c.target, True, c.data) for c in calls]])
    assert encode_aggregate3(calls) == expected


def test_hand_decoding_matches_the_abi():
    results = [
        (True, b"\x00" * 31 + b"\x07"),
        (False, b"\x08\xc3\x79\xa0"),
        (True, b""),
        (True, bytes(range(50))),
    ]
    returned = encode(["(bool,bytes)[]"], [results])
    assert decode(["(bool,bytes)[]"], returned)[0] == tuple(results)
    assert decode_aggregate3(returned) == [results[0][1], None, None, results[3][1]]


def test_one_bad_call_does_not_spoil_the_batch(node, contracts, dev_accounts, minter, stranger):
    """A reverting balanceOf, an empty answer, and a call to an address without code each give None, only there."""
    picky = contract(
        node,
        "PickyToken",
        deploy_contract(
            node,
            deployer_key=minter.key.to_0x_hex(),
            name="PickyToken",
            args=(dev_accounts[2].address, dev_accounts[3].address),
        ),
    )
    token = contracts["LoyaltyToken"]
    calls = [
        balance_call(token, dev_accounts[0].address),
        balance_call(picky.address, dev_accounts[1].address),  # answers 0
        balance_call(picky.address, dev_accounts[2].address),  # reverts
        balance_call(picky.address, dev_accounts[3].address),  # returns no data
        balance_call(stranger.address, dev_accounts[1].address),  # no code there: success with empty data
        balance_call(token, dev_accounts[4].address),
    ]
    results = aggregate3(calls)
    assert [None if r is None else int.from_bytes(r, "big") for r in results] == [
        50_000 * 10**18,
        0,
        None,
        None,
        None,
        150 * 10**18,
    ]


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 500])
def test_chunks_give_the_same_answers_in_order(contracts, dev_accounts, stranger, chunk_size):
    holders = (
        [a.address for a in dev_accounts] + [stranger.address] + [a.address for a in reversed(dev_accounts)]
    )
    results = aggregate3(
        [balance_call(contracts["LoyaltyToken"], h) for h in holders], chunk_size=chunk_size, workers=3
    )
    amounts = [int.from_bytes(r, "big") // 10**18 for r in results]
    assert amounts == [50_000, 12_000, 3_000, 800, 150, 0, 150, 800, 3_000, 12_000, 50_000]


def test_a_batch_at_a_past_block(node, contracts, dev_accounts, minter, transact, chain_snapshot):
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    before = node.block_number()
    transact(minter, token, "mint", dev_accounts[4].address, 10**18)
    call = [balance_call(token.address, dev_accounts[4].address)]
    assert int.from_bytes(aggregate3(call, block=before)[0], "big") == 150 * 10**18
    assert int.from_bytes(aggregate3(call)[0], "big") == 151 * 10**18


def test_without_multicall_code_its_code_is_lent_by_state_override(node, contracts, dev_accounts, stranger):
    """A snapshot older than the Multicall3 deployment (or a chain without one) still reads in batches."""
    calls = [balance_call(contracts["LoyaltyToken"], a.address) for a in dev_accounts[:2]]
    results = aggregate3(calls, multicall=stranger.address, chunk_size=1)  # no code at the stranger's address
    assert [int.from_bytes(r, "big") // 10**18 for r in results] == [50_000, 12_000]


def test_a_contract_that_is_no_multicall_is_a_readable_error(node, contracts, dev_accounts):
    with pytest.raises(
        ChainUnavailable,
        match=f"The contract at {contracts['DemoPriceOracle']} on the portal's chain "
        "is not a Multicall3 batch-call contract",
    ):
        aggregate3(
            [balance_call(contracts["LoyaltyToken"], dev_accounts[0].address)],
            multicall=contracts["DemoPriceOracle"],
        )


def test_node_down_is_a_readable_error(settings):
    from governance.devchain import free_port

    settings.PORTAL = {**settings.PORTAL, "CHAIN_RPC_URLS": {4242: f"http://127.0.0.1:{free_port()}"}}
    with pytest.raises(ChainUnavailable, match="cannot be reached right now"):
        aggregate3(
            [Call("0x0000000000000000000000000000000000000001", b"")],
            chain_id=4242,
            multicall="0xcA11bde05977b3631167028862bE2a173976CA11",
        )


def test_no_calls_no_request():
    assert aggregate3([], chain_id=999_999) == []
