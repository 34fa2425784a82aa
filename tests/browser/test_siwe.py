"""Sign-In with Ethereum as a person does it: a wallet in the browser, one click, one signature."""

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from playwright.sync_api import expect

from portal.accounts.models import User

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


def test_sign_in_with_an_injected_wallet(live_url, wallet_page, dev_accounts):
    account = dev_accounts[2]
    page = wallet_page(account)
    page.goto(live_url + "/")
    page.get_by_test_id("siwe-signin").click()
    chip = page.get_by_test_id("account-chip")
    expect(chip).to_contain_text(f"{account.address[:6]}…{account.address[-4:]}")
    assert SocialAccount.objects.filter(provider="siwe", uid=account.address).exists()


def test_legacy_window_ethereum_is_the_fallback(live_url, wallet_page, dev_accounts):
    page = wallet_page(dev_accounts[3], legacy=True)
    page.add_init_script("window.addEventListener('eip6963:announceProvider', e => e.stopImmediatePropagation(), true);")
    page.goto(live_url + "/")
    page.get_by_test_id("siwe-signin").click()
    expect(page.get_by_test_id("account-chip")).to_be_visible()


def test_no_wallet_shows_a_sentence(live_url, new_page):
    page = new_page()
    page.goto(live_url + "/")
    page.get_by_test_id("siwe-signin").click()
    expect(page.locator("[data-siwe-status]")).to_contain_text("No Ethereum wallet was found in this browser")
    assert not User.objects.exists()


def test_rejected_request_shows_a_sentence(live_url, wallet_page, dev_accounts):
    page = wallet_page(dev_accounts[1], reject=True)
    page.goto(live_url + "/")
    page.get_by_test_id("siwe-signin").click()
    expect(page.locator("[data-siwe-status]")).to_contain_text("You cancelled the request in your wallet")
    assert not User.objects.exists()


def test_wrong_chain_that_cannot_switch_shows_a_sentence(live_url, wallet_page, dev_accounts):
    page = wallet_page(dev_accounts[1], chain_id=1, can_switch=False)
    page.goto(live_url + "/")
    page.get_by_test_id("siwe-signin").click()
    expect(page.locator("[data-siwe-status]")).to_contain_text(re.compile(r"Your wallet is on chain 1, but this portal uses chain \d+"))
    assert not User.objects.exists()


def test_wrong_chain_is_switched_by_the_wallet(live_url, wallet_page, dev_accounts):
    page = wallet_page(dev_accounts[1], chain_id=1, can_switch=True)
    page.goto(live_url + "/")
    page.get_by_test_id("siwe-signin").click()
    expect(page.get_by_test_id("account-chip")).to_be_visible()


def test_link_a_second_wallet_from_the_account_page(live_url, signed_in_page, wallet_page, dev_accounts):
    first, second = dev_accounts[1], dev_accounts[4]
    page = signed_in_page(first)
    # The same browser context now answers with the second wallet's key: a person switching accounts in the wallet.
    linking = wallet_page(second)
    linking.context.add_cookies(page.context.cookies())
    linking.goto(live_url + "/account/")
    linking.get_by_test_id("link-wallet").click()
    expect(linking.get_by_test_id("wallet-list")).to_contain_text(second.address)
    user = User.objects.get(username=first.address)
    assert sorted(user.wallet_addresses) == sorted([first.address, second.address])


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_home_page_screenshots(live_url, new_page, signed_in_page, dev_accounts, contracts, screenshot, scheme,
                              viewport):
    width = "desktop" if viewport is DESKTOP else "phone"
    page = new_page(viewport=viewport, color_scheme=scheme)
    page.goto(live_url + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, f"home-{width}-{scheme}")
    page = signed_in_page(dev_accounts[0], viewport=viewport, color_scheme=scheme)
    page.goto(live_url + "/account/")
    expect(page.get_by_test_id("wallet-list")).to_be_visible()
    expect(page.locator("#loyalty-standing")).to_contain_text("voting power")
    screenshot(page, f"account-{width}-{scheme}")


def test_several_wallets_let_the_person_choose(live_url, wallet_page, dev_accounts):
    page = wallet_page(dev_accounts[2])
    # A second EIP-6963 wallet that would refuse everything: choosing the test wallet must still sign in.
    page.add_init_script("""
      const other = { request: async () => { throw Object.assign(new Error('no'), { code: 4001 }); } };
      const info = { uuid: '00000000-0000-4000-8000-000000000002', name: 'Other Wallet', icon: '', rdns: 'org.example.other' };
      window.addEventListener('eip6963:requestProvider', () =>
        window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: { info, provider: other } })));
    """)
    page.goto(live_url + "/")
    page.get_by_test_id("siwe-signin").click()
    picker = page.locator("[data-wallet-picker]")
    expect(picker).to_contain_text("Other Wallet")
    picker.get_by_role("button", name="Test Wallet").click()
    expect(page.get_by_test_id("account-chip")).to_be_visible()
