"""Voting strategies against real anvil nodes: past blocks, each kind, the multichain sum, exact decimals, failures."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from governance.chain import ChainUnavailable, chain
from governance.deploy import contract, deploy_all, deploy_contract, record_deployments
from governance.devchain import DEV_KEYS, free_port, start_anvil, stop_anvil
from governance.blocks import snapshot_fix
from governance.strategies import (
    MAX_STRATEGIES,
    Strategy,
    default_strategies,
    strategies_from_json,
    total_supply_at,
    voting_weight,
    voting_weights,
)

pytestmark = pytest.mark.chain
TOKEN = 10**18
OTHER_CHAIN_ID = 31_338


@pytest.fixture
def token(node, contracts):
    return contract(node, "LoyaltyToken", contracts["LoyaltyToken"])


def votes(token) -> Strategy:
    return Strategy(kind="erc20-votes", chain_id=chain().chain_id, address=token.address)


def balance_of(token) -> Strategy:
    return Strategy(kind="erc20-balance-of", chain_id=chain().chain_id, address=token.address)


def mine(node, blocks: int = 1) -> int:
    node.w3.provider.make_request("anvil_mine", [hex(blocks)])
    return node.block_number()


def test_votes_and_balances_at_the_snapshot_ignore_later_mints(
    node, token, minter, stranger, transact, chain_snapshot
):
    transact(minter, token, "mint", stranger.address, 10 * TOKEN)
    snapshot = mine(node)
    transact(minter, token, "mint", stranger.address, 5 * TOKEN)  # after the snapshot: must not count
    mine(node)
    for strategy in (votes(token), balance_of(token)):
        weight = voting_weight(strategies=[strategy], snapshot_block=snapshot, address=stranger.address)
        assert weight == Decimal(10), strategy.kind
    assert (
        voting_weight(strategies=[votes(token)], snapshot_block=node.block_number(), address=stranger.address)
        == 15
    )


def test_delegation_after_the_snapshot_does_not_count(node, token, dev_accounts, transact, chain_snapshot):
    holder, delegate = dev_accounts[3], dev_accounts[4]
    snapshot = mine(node)
    transact(holder, token, "delegate", delegate.address)
    mine(node)
    before = voting_weights(
        strategies=[votes(token)], snapshot_block=snapshot, addresses=[holder.address, delegate.address]
    )
    assert before == {holder.address: Decimal(800), delegate.address: Decimal(150)}
    after = voting_weights(
        strategies=[votes(token)],
        snapshot_block=node.block_number() - 1,
        addresses=[holder.address, delegate.address],
    )
    assert after == {holder.address: Decimal(0), delegate.address: Decimal(950)}
    # balanceOf ignores delegation: the holder still holds the tokens
    assert (
        voting_weight(
            strategies=[balance_of(token)], snapshot_block=node.block_number(), address=holder.address
        )
        == 800
    )


def test_badges_count_with_their_multiplier(
    node, contracts, dev_accounts, minter, stranger, transact, chain_snapshot
):
    badge = contract(node, "AchievementBadge", contracts["AchievementBadge"])
    strategy = Strategy(
        kind="erc721-balance-of",
        chain_id=node.chain_id,
        address=badge.address,
        multiplier=Decimal("2.5"),
        decimals=0,
    )
    snapshot = node.block_number()
    transact(minter, badge, "award", dev_accounts[0].address, 42)
    weights = voting_weights(
        strategies=[strategy],
        snapshot_block=snapshot,
        addresses=[a.address for a in dev_accounts[:4]] + [stranger.address],
    )
    assert list(weights.values()) == [Decimal("7.5"), Decimal(5), Decimal("2.5"), Decimal(0), Decimal(0)]


def test_default_strategies_sum_tokens_and_badges(node, contracts, dev_accounts):
    strategies = default_strategies()
    assert [s.kind for s in strategies] == ["erc20-votes", "erc721-balance-of"]
    assert strategies[1].multiplier == 100 and strategies[1].decimals == 0
    weights = voting_weights(
        strategies=strategies,
        snapshot_block=node.block_number(),
        addresses=[a.address.lower() for a in dev_accounts],
    )
    assert weights == {
        dev_accounts[0].address: Decimal(50_300),
        dev_accounts[1].address: Decimal(12_200),
        dev_accounts[2].address: Decimal(3_100),
        dev_accounts[3].address: Decimal(800),
        dev_accounts[4].address: Decimal(150),
    }


def test_decimals_are_exact_for_huge_balances(node, token, minter, stranger, transact, chain_snapshot):
    amount = (
        10**30 + 1
    )  # 1,000,000,000,000.000000000000000001 tokens: more digits than a float or Decimal's default
    supply = token.functions.totalSupply().call()  # whole tokens: other tests may have minted some
    assert supply % TOKEN == 0
    transact(minter, token, "mint", stranger.address, amount)
    snapshot = mine(node)
    strategy = Strategy(
        kind="erc20-votes", chain_id=node.chain_id, address=token.address, multiplier=Decimal("1.5")
    )
    weight = voting_weight(
        strategies=[strategy, balance_of(token)], snapshot_block=snapshot, address=stranger.address
    )
    assert weight == Decimal("2500000000000.0000000000000000025")
    assert str(weight) == "2500000000000.0000000000000000025"
    total = total_supply_at(strategies=[balance_of(token)], snapshot_block=snapshot)
    assert str(total) == f"{10**12 + supply // TOKEN}.000000000000000001"


def test_total_supply_at_the_snapshot(node, contracts, token, minter, stranger, transact, chain_snapshot):
    badge = contract(node, "AchievementBadge", contracts["AchievementBadge"])
    supply, badges = token.functions.totalSupply().call() // TOKEN, badge.functions.totalSupply().call()
    snapshot = mine(node)
    transact(minter, token, "mint", stranger.address, 1_000 * TOKEN)
    transact(minter, badge, "award", stranger.address, 1)
    mine(node)
    assert total_supply_at(strategies=[votes(token)], snapshot_block=snapshot) == supply
    assert total_supply_at(strategies=default_strategies(), snapshot_block=snapshot) == supply + badges * 100


def test_one_failing_address_does_not_spoil_the_others(
    node, contracts, token, dev_accounts, minter, chain_snapshot
):
    picky = deploy_contract(
        node,
        deployer_key=minter.key.to_0x_hex(),
        name="PickyToken",
        args=(dev_accounts[1].address, dev_accounts[2].address),
    )
    strategies = [votes(token), Strategy(kind="erc20-balance-of", chain_id=node.chain_id, address=picky)]
    snapshot = mine(node) - 1  # the block PickyToken was deployed in
    weights = voting_weights(
        strategies=strategies,
        snapshot_block=snapshot,
        addresses=[a.address for a in dev_accounts[:4]],
        chunk_size=2,
    )
    assert weights == {
        dev_accounts[0].address: Decimal(50_000),
        dev_accounts[1].address: None,  # PickyToken reverts for it
        dev_accounts[2].address: None,  # PickyToken answers nothing for it
        dev_accounts[3].address: Decimal(800),
    }
    with pytest.raises(ChainUnavailable, match="could not be read"):
        voting_weight(strategies=strategies, snapshot_block=snapshot, address=dev_accounts[1].address)


def test_a_strategy_contract_without_code_marks_every_address(node, contracts, dev_accounts, stranger):
    missing = Strategy(kind="erc20-votes", chain_id=node.chain_id, address=stranger.address)
    weights = voting_weights(
        strategies=[missing], snapshot_block=node.block_number() - 1, addresses=[dev_accounts[0].address]
    )
    assert weights == {dev_accounts[0].address: None}


def test_node_down_is_chain_unavailable_with_a_sentence(settings, contracts, dev_accounts):
    settings.PORTAL = {
        **settings.PORTAL,
        "CHAIN_RPC_URL": f"http://127.0.0.1:{free_port()}",
        "CHAIN_ID": 31337,
    }
    strategy = Strategy(kind="erc20-votes", chain_id=31337, address=contracts["LoyaltyToken"])
    with pytest.raises(ChainUnavailable) as caught:
        voting_weight(strategies=[strategy], snapshot_block=5, address=dev_accounts[0].address)
    assert str(caught.value) == (
        "The blockchain node cannot be reached right now, so on-chain data could not be read. "
        "Please try again in a minute."
    )
    with pytest.raises(ChainUnavailable, match="cannot be reached"):
        snapshot_fix()


def test_an_unconfigured_chain_is_chain_unavailable(contracts, dev_accounts, node):
    strategy = Strategy(kind="erc20-votes", chain_id=777, address=contracts["LoyaltyToken"])
    with pytest.raises(ChainUnavailable, match="no RPC endpoint configured for chain 777"):
        voting_weights(
            strategies=[strategy], snapshot_block=node.block_number(), addresses=[dev_accounts[0].address]
        )


def test_a_snapshot_ahead_of_the_node_is_chain_unavailable(contracts, node, dev_accounts):
    head = node.block_number()
    for strategy in default_strategies():
        with pytest.raises(
            ChainUnavailable, match=f"is at block {head}, before the snapshot block {head + 100}"
        ):
            voting_weight(strategies=[strategy], snapshot_block=head + 100, address=dev_accounts[0].address)


def test_a_bad_address_is_refused(contracts, node):
    with pytest.raises(ValueError, match="'0x123' is not a valid Ethereum address"):
        voting_weights(
            strategies=default_strategies(), snapshot_block=node.block_number(), addresses=["0x123"]
        )


def test_snapshot_fix_is_head_minus_the_confirmation_depth(node, settings):
    head = mine(node, 5)
    block, when = snapshot_fix()
    assert block == head - 3
    assert when == datetime.fromtimestamp(node.get_block(block)["timestamp"], tz=UTC)
    assert snapshot_fix(confirmations=0)[0] == head
    settings.PORTAL = {**settings.PORTAL, "SNAPSHOT_CONFIRMATIONS": 1}
    assert snapshot_fix()[0] == head - 1
    assert snapshot_fix(confirmations=10**9)[0] == 0  # clamped at genesis


# --- a second chain -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_chain(anvil_url, _devchain_dir):
    """A second anvil with its own chain id, configured in CHAIN_RPC_URLS, with the contracts deployed."""
    port = free_port()
    process = start_anvil(port=port, chain_id=OTHER_CHAIN_ID)
    urls = dict(django_settings.PORTAL.get("CHAIN_RPC_URLS") or {})
    django_settings.PORTAL["CHAIN_RPC_URLS"] = {**urls, OTHER_CHAIN_ID: f"http://127.0.0.1:{port}"}
    node = chain(OTHER_CHAIN_ID)
    addresses = deploy_all(node, deployer_key=DEV_KEYS[0])
    record_deployments(OTHER_CHAIN_ID, addresses)
    yield node, addresses
    django_settings.PORTAL["CHAIN_RPC_URLS"] = urls
    stop_anvil(process)


def test_multichain_sum_reads_each_chain_at_the_snapshot_time(
    node, token, other_chain, minter, stranger, transact, chain_snapshot
):
    other, addresses = other_chain
    assert other.chain_id == OTHER_CHAIN_ID != node.chain_id
    other_token = contract(other, "LoyaltyToken", addresses["LoyaltyToken"])
    transact(minter, token, "mint", stranger.address, 3 * TOKEN)
    other.send_transaction(
        key=DEV_KEYS[0],
        tx={
            "to": other_token.address,
            "data": other_token.encode_abi("mint", args=[stranger.address, 5 * TOKEN]),
        },
    )
    # Each block's timestamp must exceed its parent's, so busy anvils run ahead of the clock: set the times explicitly.
    after_mint = max(node.get_block("latest")["timestamp"], other.get_block("latest")["timestamp"]) + 10
    node.w3.provider.make_request("evm_setNextBlockTimestamp", [after_mint])
    snapshot = mine(node)
    snapshot_time = datetime.fromtimestamp(node.get_block(snapshot)["timestamp"], tz=UTC)
    # Later on the other chain: must not count.
    other.w3.provider.make_request("evm_setNextBlockTimestamp", [int(snapshot_time.timestamp()) + 1_000])
    other.send_transaction(
        key=DEV_KEYS[0],
        tx={
            "to": other_token.address,
            "data": other_token.encode_abi("mint", args=[stranger.address, 7 * TOKEN]),
        },
    )
    other.w3.provider.make_request("anvil_mine", ["0x1"])
    strategies = [
        votes(token),
        Strategy(
            kind="erc20-votes", chain_id=OTHER_CHAIN_ID, address=other_token.address, multiplier=Decimal(2)
        ),
        Strategy(kind="erc20-balance-of", chain_id=OTHER_CHAIN_ID, address=other_token.address),
    ]
    weight = voting_weight(
        strategies=strategies, snapshot_block=snapshot, snapshot_time=snapshot_time, address=stranger.address
    )
    assert weight == 3 + 2 * 5 + 5
    # Without an explicit time, the home block's timestamp is used.
    assert voting_weight(strategies=strategies, snapshot_block=snapshot, address=stranger.address) == weight
    assert (
        total_supply_at(strategies=strategies[1:], snapshot_block=snapshot, snapshot_time=snapshot_time) == 15
    )


# --- the JSON form --------------------------------------------------------------------------------------------------

GOOD = {"kind": "erc20-votes", "chain_id": 1, "address": "0x5fbdb2315678afecb367f032d93f642f64180aa3"}


def test_json_round_trip():
    strategy = Strategy.from_json({**GOOD, "multiplier": "1.50"})
    assert strategy.address == "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    assert strategy.to_json() == {**GOOD, "address": strategy.address, "multiplier": "1.5", "decimals": 18}
    assert Strategy.from_json(strategy.to_json()) == strategy
    badge = Strategy.from_json({**GOOD, "kind": "erc721-balance-of", "multiplier": 100})
    assert badge.decimals == 0 and badge.to_json()["multiplier"] == "100"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "erc1155"}, "Unknown strategy kind 'erc1155'"),
        ({"chain_id": 0}, "chain id must be a positive whole number"),
        ({"chain_id": "1"}, "chain id must be a positive whole number"),
        ({"address": "0x12"}, "contract address '0x12' is not a valid Ethereum address"),
        (
            {"address": "0x5FBDB2315678afecb367f032d93F642f64180aa3"},
            "is not a valid Ethereum address",
        ),  # bad checksum
        ({"multiplier": "0"}, "multiplier must be greater than 0"),
        ({"multiplier": "-1"}, "multiplier must be greater than 0"),
        ({"multiplier": "NaN"}, "multiplier must be greater than 0"),
        ({"multiplier": "lots"}, "multiplier must be a number"),
        ({"multiplier": True}, "multiplier must be a number"),
        ({"decimals": 99}, "decimals must be a whole number from 0 to 36"),
        ({"kind": "erc721-balance-of", "decimals": 18}, "decimals must be 0"),
        ({"weight": 1}, "Unknown strategy field 'weight'"),
    ],
)
def test_json_errors_are_sentences(change, message):
    with pytest.raises(ValueError, match=message):
        Strategy.from_json({**GOOD, **change})


def test_missing_fields_and_lists():
    with pytest.raises(ValueError, match="A strategy needs a address"):
        Strategy.from_json({"kind": "erc20-votes", "chain_id": 1})
    with pytest.raises(ValueError, match="must be an object"):
        Strategy.from_json(["erc20-votes"])
    with pytest.raises(ValueError, match="at least one voting strategy"):
        strategies_from_json([])
    many = [{**GOOD, "chain_id": n} for n in range(1, MAX_STRATEGIES + 2)]
    with pytest.raises(
        ValueError, match=f"at most {MAX_STRATEGIES} voting strategies, not {MAX_STRATEGIES + 1}"
    ):
        strategies_from_json(many)
    assert len(strategies_from_json(many[:MAX_STRATEGIES])) == MAX_STRATEGIES
    with pytest.raises(ValueError, match="listed twice"):
        strategies_from_json([GOOD, dict(GOOD)])


def test_many_addresses_read_while_checksums_are_checked(node, contracts, dev_accounts):
    """From OVERLAP_FROM addresses on, the chain is read in a thread while checksums are checked; same answers."""
    from governance.strategies import OVERLAP_FROM

    others = [f"0x{n:040x}" for n in range(1, OVERLAP_FROM + 1)]
    addresses = [a.address for a in dev_accounts] + others
    weights = voting_weights(
        strategies=default_strategies(), snapshot_block=node.block_number(), addresses=addresses
    )
    assert len(weights) == len(addresses)
    assert weights[dev_accounts[1].address] == 12_200 and weights["0x" + "0" * 39 + "1"] == 0
    wrong_checksum = dev_accounts[0].address[:2] + dev_accounts[0].address[2:].swapcase()
    with pytest.raises(ValueError, match="checksum"):
        voting_weights(
            strategies=default_strategies(),
            snapshot_block=node.block_number(),
            addresses=[*others, wrong_checksum],
        )
