"""Delegating loyalty votes from the account page in a real Chromium, by both roads: the test wallet sends the
token's `delegate(address)` to the test anvil with eth_sendTransaction, or a holder with no ETH signs the token's
EIP-712 Delegation (eth_signTypedData_v4) and another wallet sends it as delegateBySig; the page reads the new
delegation back from the chain's events. Bad addresses, the zero address, a refused request, a wallet without gas,
another chain, and an expired or used signature each get a sentence."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
from eth_account import Account
from playwright.sync_api import expect

from governance.delegation import ZERO_ADDRESS, delegation_index
from governance.deploy import contract

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.chain]
TOKEN = 10**18


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
    expect(page.get_by_test_id("wallet-delegations")).to_contain_text("you delegate to yourself")
    page.get_by_test_id("delegate-other").check()
    page.get_by_label("Address to delegate to").fill(delegate.address)
    page.get_by_test_id("delegate-submit").click()
    expect(page.get_by_test_id("delegate-status")).to_contain_text(re.compile(r"Done: from block \d+ your votes go to"))
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    assert token.functions.delegates(delegator.address).call() == delegate.address
    page.reload()
    expect(page.get_by_test_id("wallet-delegations")).to_contain_text(re.compile(r"You delegate to .+ since block \d+", re.DOTALL))
    expect(page.get_by_test_id("wallet-delegations")).not_to_contain_text("yourself")
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


@pytest.fixture
def penniless_holder(contracts, node, minter, transact):
    """A fresh key holding 700 LOYAL (self-delegated by its first mint) and no ETH at all: it cannot pay gas."""
    account = Account.create()
    transact(minter, contract(node, "LoyaltyToken", contracts["LoyaltyToken"]), "mint", account.address, 700 * TOKEN)
    assert node.w3.eth.get_balance(account.address) == 0
    return account


def _sign_without_gas(page, delegate_address: str) -> str:
    page.get_by_test_id("delegate-other").check()
    page.get_by_label("Address to delegate to").fill(delegate_address)
    page.get_by_test_id("gasless").locator("summary").click()
    page.get_by_test_id("delegate-sign").click()
    expect(page.get_by_test_id("delegate-status")).to_contain_text("Signed. Nothing has changed yet")
    return page.get_by_test_id("signed-payload").input_value()


def test_a_holder_without_gas_signs_and_another_wallet_sends_it(
    holder_page, wallet_page, live_url, penniless_holder, dev_accounts, node, contracts
):
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    delegate = dev_accounts[1]
    page = holder_page(penniless_holder)
    payload = json.loads(_sign_without_gas(page, delegate.address))
    assert (payload["holder"], payload["delegatee"], payload["nonce"]) == (penniless_holder.address, delegate.address, 0)
    assert token.functions.delegates(penniless_holder.address).call() == penniless_holder.address  # nothing sent yet
    # Its own wallet cannot send it: no ETH for the gas.
    page.get_by_test_id("signed-send").click()
    expect(page.get_by_test_id("signed-status")).to_contain_text("no ETH to pay the gas")

    sender = wallet_page(dev_accounts[2])  # funded, not signed in: anyone may send it
    sender.goto(f"{live_url}/delegates/send/")
    sender.get_by_test_id("signed-payload").fill(json.dumps(payload))
    sender.get_by_test_id("signed-send").click()
    status = sender.get_by_test_id("signed-status")
    expect(status).to_contain_text(re.compile(r"Done: from block \d+ the votes of"))
    block = int(re.search(r"from block (\d+)", status.inner_text()).group(1))
    assert token.functions.delegates(penniless_holder.address).call() == delegate.address
    assert node.w3.eth.get_balance(penniless_holder.address) == 0

    page.reload()
    expect(page.get_by_test_id("wallet-delegations")).to_contain_text(re.compile(rf"You delegate to .+ since block {block}\b", re.DOTALL))
    # Sent once, the same text is refused with a sentence before the wallet is asked.
    sender.get_by_test_id("signed-send").click()
    expect(status).to_contain_text("has already been sent")


def test_an_expired_or_foreign_signed_delegation_is_refused_with_a_sentence(wallet_page, live_url, penniless_holder, dev_accounts, node, contracts):
    # Through the live server, not Django's test client: Playwright's event loop runs in this thread, and the
    # admission middleware is async, which a sync test client would have to run with async_to_sync.
    typed = requests.get(f"{live_url}/api/v1/delegations/typed-data", timeout=30,
                         params={"holder": penniless_holder.address, "delegatee": dev_accounts[1].address}).json()
    typed["message"]["expiry"] = int(time.time()) - 3600
    signature = penniless_holder.sign_typed_data(full_message=typed).signature
    expired = {
        "chain_id": typed["domain"]["chainId"], "token": typed["domain"]["verifyingContract"],
        "holder": penniless_holder.address, **typed["message"],
        "v": signature[64], "r": "0x" + signature[:32].hex(), "s": "0x" + signature[32:64].hex(),
    }
    sender = wallet_page(dev_accounts[2])
    sender.goto(f"{live_url}/delegates/send/")
    box, status = sender.get_by_test_id("signed-payload"), sender.get_by_test_id("signed-status")
    for text, sentence in (
        (json.dumps(expired), "expired on"),
        (json.dumps({**expired, "chain_id": 1}), "signed for chain 1"),
        (json.dumps({**expired, "holder": dev_accounts[3].address}), "was not made by"),  # checked before the expiry
        ("hello", "This is not a signed delegation"),
    ):
        box.fill(text)
        sender.get_by_test_id("signed-send").click()
        expect(status).to_contain_text(sentence)
    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    assert token.functions.delegates(penniless_holder.address).call() == penniless_holder.address


def test_signing_refused_in_the_wallet_or_on_another_chain_is_a_sentence(holder_page, penniless_holder, dev_accounts):
    refusing = holder_page(penniless_holder, reject=True)
    refusing.get_by_test_id("gasless").locator("summary").click()
    refusing.get_by_test_id("delegate-sign").click()
    expect(refusing.get_by_test_id("delegate-status")).to_contain_text("You cancelled the request in your wallet")
    elsewhere = holder_page(penniless_holder, chain_id=1, can_switch=False)
    elsewhere.get_by_test_id("gasless").locator("summary").click()
    elsewhere.get_by_test_id("delegate-sign").click()
    expect(elsewhere.get_by_test_id("delegate-status")).to_contain_text("this portal uses chain")
    expect(elsewhere.get_by_test_id("signed-payload")).to_be_hidden()


def test_the_delegation_card_on_desktop_and_phone_light_and_dark(holder_page, penniless_holder, dev_accounts, screenshot):
    for viewport, scheme in ((DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")):
        page = holder_page(penniless_holder, viewport=viewport, color_scheme=scheme)
        _sign_without_gas(page, dev_accounts[1].address)
        expect(page.get_by_test_id("signed-payload")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing sticks out
        path = screenshot(page, f"delegation-signed-{'phone' if viewport is PHONE else 'desktop'}-{scheme}")
        box = page.locator("#delegation").bounding_box()  # clipped from the full page: the sticky header stays on top
        top = box["y"] + page.evaluate("scrollY")
        page.screenshot(path=str(path.with_name(path.stem + "-card.png")), full_page=True,
                        clip={"x": box["x"], "y": top, "width": box["width"], "height": box["height"]})


HEADER_BOXES = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  return {
    brand: box(document.querySelector(".brand")),
    links: [...document.querySelectorAll(".site-nav a")].map((a) => ({text: a.textContent.trim(), ...box(a)})),
    nav: box(document.querySelector(".site-nav")),
    account: box(document.querySelector(".site-header__account")),
    width: document.documentElement.clientWidth, scrollWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_the_header_nav_keeps_delegates_on_its_line(
    wallet_page, signed_in_page, live_url, contracts, dev_accounts, screenshot, width
):
    """The widest header (signed in: bell and account chip with its tier) and the anonymous one: the five links stay on one
    line, none cut off; at 1280 px brand, nav, search and account share one row."""
    viewport = {"width": width, "height": 700}
    for scheme in ("light", "dark"):
        for who, page in (("signed-in", signed_in_page(dev_accounts[1], viewport=viewport, color_scheme=scheme)),
                          ("anonymous", wallet_page(dev_accounts[1], viewport=viewport, color_scheme=scheme))):
            page.goto(f"{live_url}/delegates/")
            boxes = page.evaluate(HEADER_BOXES)
            links = boxes["links"]
            assert [link["text"] for link in links][-1] == "Delegates"
            assert len({round(link["top"]) for link in links}) == 1, (who, scheme, links)  # one line of links
            assert all(0 <= link["left"] and link["right"] <= boxes["width"] for link in links), (who, links)  # none cut off
            assert boxes["scrollWidth"] <= boxes["width"]
            if width >= 1280:
                assert links[0]["top"] < boxes["brand"]["bottom"] and boxes["account"]["top"] < links[0]["bottom"], who
            page.locator(".site-header").screenshot(path=str(screenshot(page, f"header-{width}-{who}-{scheme}")))
