"""Delegating loyalty votes from the account page in a real Chromium: the test wallet sends the token's
`delegate(address)` to the test anvil with eth_sendTransaction; the page reads the new delegation back from the
chain's events. Bad addresses, the zero address, a refused request and a wallet without gas each get a sentence."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from governance.delegation import ZERO_ADDRESS, delegation_index
from governance.deploy import contract

pytestmark = [pytest.mark.browser, pytest.mark.chain]


@pytest.fixture
def holder_page(signed_in_page, live_url, contracts, chain_snapshot):
    def make(account, **options):
        page = signed_in_page(account, **options)
        page.goto(f"{live_url}/account/")
        return page

    return make


def test_a_holder_delegates_to_another_address_from_the_account_page(holder_page, dev_accounts, node, contracts, screenshot):
    delegator, delegate = dev_accounts[3], dev_accounts[1]
    page = holder_page(delegator)
    expect(page.get_by_test_id("wallet-delegations")).to_contain_text("itself")
    page.get_by_test_id("delegate-other").check()
    page.get_by_label("Address to delegate to").fill(delegate.address)
    page.get_by_test_id("delegate-submit").click()
    expect(page.get_by_test_id("delegate-status")).to_contain_text(re.compile(r"Done: from block \d+ your votes go to"))
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    assert token.functions.delegates(delegator.address).call() == delegate.address
    page.reload()
    expect(page.get_by_test_id("wallet-delegations")).to_contain_text("since block")
    expect(page.get_by_test_id("wallet-delegations")).not_to_contain_text("itself")
    screenshot(page, "delegation-done-desktop-light")


def test_delegating_to_the_zero_address_asks_to_confirm_first(holder_page, dev_accounts, node, contracts):
    holder = dev_accounts[4]
    page = holder_page(holder)
    page.get_by_test_id("delegate-other").check()
    page.get_by_label("Address to delegate to").fill(ZERO_ADDRESS)
    page.get_by_test_id("delegate-submit").click()
    expect(page.get_by_test_id("delegate-status")).to_contain_text("removes your votes")
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    assert token.functions.delegates(holder.address).call() == holder.address  # nothing sent yet
    page.get_by_role("button", name="Yes, remove my votes").click()
    expect(page.get_by_test_id("delegate-status")).to_contain_text("nobody (your votes are removed)")
    assert token.functions.delegates(holder.address).call() == ZERO_ADDRESS


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("0x1234", "is not a wallet address"),
        ("vitalik.eth", "is not a wallet address"),
        ("0x70997970c51812dc3a010c7d01b50e0d17dc79C8", "is not a wallet address"),  # wrong EIP-55 checksum
    ],
    ids=["short", "name", "bad-checksum"],
)
def test_an_invalid_delegate_address_is_a_sentence_and_nothing_is_sent(holder_page, dev_accounts, typed, sentence):
    page = holder_page(dev_accounts[2])
    page.get_by_test_id("delegate-other").check()
    page.get_by_label("Address to delegate to").fill(typed)
    page.get_by_test_id("delegate-submit").click()
    expect(page.get_by_test_id("delegate-status")).to_contain_text(sentence)
    assert delegation_index()[dev_accounts[2].address].delegate == dev_accounts[2].address


def test_a_refused_request_and_a_wallet_without_gas_are_sentences(holder_page, dev_accounts, stranger):
    refusing = holder_page(dev_accounts[2], reject=True)
    refusing.get_by_test_id("delegate-submit").click()
    expect(refusing.get_by_test_id("delegate-status")).to_contain_text("You cancelled the request in your wallet")
    penniless = holder_page(stranger)
    penniless.get_by_test_id("delegate-submit").click()
    expect(penniless.get_by_test_id("delegate-status")).to_contain_text("no ETH to pay the gas")


def test_a_wallet_on_another_chain_that_cannot_switch_is_told_which_chain(holder_page, dev_accounts):
    page = holder_page(dev_accounts[2], chain_id=1, can_switch=False)
    page.get_by_test_id("delegate-submit").click()
    expect(page.get_by_test_id("delegate-status")).to_contain_text("this portal uses chain")
