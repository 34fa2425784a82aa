"""The Solidity contracts on a real anvil: non-transferable loyalty, one badge per achievement, the demo pool and oracle."""

import pytest

from governance.chain import TransactionFailed
from governance.deploy import contract

pytestmark = pytest.mark.chain
TOKEN = 10**18


@pytest.fixture
def token(node, contracts):
    return contract(node, "LoyaltyToken", contracts["LoyaltyToken"])


@pytest.fixture
def badge(node, contracts):
    return contract(node, "AchievementBadge", contracts["AchievementBadge"])


def test_loyalty_token_cannot_be_transferred(token, dev_accounts, transact, chain_snapshot):
    holder, other = dev_accounts[1], dev_accounts[2]
    with pytest.raises(TransactionFailed, match="NonTransferable|revert"):
        transact(holder, token, "transfer", other.address, 1 * TOKEN)
    transact(
        holder, token, "approve", other.address, 1 * TOKEN
    )  # approving is harmless: spending it still fails
    with pytest.raises(TransactionFailed):
        transact(other, token, "transferFrom", holder.address, other.address, 1 * TOKEN)
    assert token.functions.balanceOf(holder.address).call() == 12_000 * TOKEN


def test_only_the_minter_mints_and_burns(token, dev_accounts, minter, stranger, transact, chain_snapshot):
    with pytest.raises(TransactionFailed):
        transact(dev_accounts[1], token, "mint", dev_accounts[1].address, 1 * TOKEN)
    with pytest.raises(TransactionFailed):
        transact(dev_accounts[1], token, "burn", dev_accounts[2].address, 1 * TOKEN)
    supply = token.functions.totalSupply().call()
    transact(minter, token, "mint", stranger.address, 5 * TOKEN)
    transact(minter, token, "burn", stranger.address, 2 * TOKEN)
    assert token.functions.balanceOf(stranger.address).call() == 3 * TOKEN
    assert token.functions.totalSupply().call() == supply + 3 * TOKEN


def test_first_mint_delegates_to_the_holder(token, minter, stranger, transact, chain_snapshot):
    transact(minter, token, "mintBatch", [stranger.address], [7 * TOKEN])
    assert token.functions.delegates(stranger.address).call() == stranger.address
    assert token.functions.getVotes(stranger.address).call() == 7 * TOKEN
    assert (
        token.functions.clock().call() == token.w3.eth.block_number
    )  # votes are checkpointed by block number


def test_mint_batch_needs_matching_lengths(token, minter, stranger, transact, chain_snapshot):
    with pytest.raises(TransactionFailed):
        transact(minter, token, "mintBatch", [stranger.address], [1, 2])


def test_a_badge_per_achievement_and_never_transferred(
    badge, minter, dev_accounts, stranger, transact, fund, chain_snapshot
):
    transact(minter, badge, "award", stranger.address, 7)
    transact(minter, badge, "award", stranger.address, 8)
    with pytest.raises(TransactionFailed):
        transact(minter, badge, "award", stranger.address, 7)
    assert badge.functions.balanceOf(stranger.address).call() == 2
    token_id = badge.functions.totalSupply().call()
    assert badge.functions.achievementOf(token_id).call() == 8
    fund(stranger.address)
    with pytest.raises(TransactionFailed):
        transact(stranger, badge, "transferFrom", stranger.address, dev_accounts[1].address, token_id)
    with pytest.raises(TransactionFailed):
        transact(dev_accounts[1], badge, "award", dev_accounts[1].address, 99)


def test_oracle_set_price_updates_the_round(node, contracts, minter, dev_accounts, transact, chain_snapshot):
    oracle = contract(node, "DemoPriceOracle", contracts["DemoPriceOracle"])
    assert oracle.functions.decimals().call() == 8
    round_id, _, _, _, _ = oracle.functions.latestRoundData().call()
    node.w3.provider.make_request("evm_increaseTime", [120])
    transact(minter, oracle, "setPrice", 2_500 * 10**8)
    new_round, answer, started_at, updated_at, answered_in = oracle.functions.latestRoundData().call()
    assert (new_round, answer, answered_in) == (round_id + 1, 2_500 * 10**8, round_id + 1)
    assert updated_at == started_at == node.get_block("latest")["timestamp"]
    with pytest.raises(TransactionFailed):
        transact(dev_accounts[1], oracle, "setPrice", 1)
