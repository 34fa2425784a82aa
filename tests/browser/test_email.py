"""E-mail as a person meets it, in Chromium over a real SMTP server: a visitor subscribes to the status page and
confirms from the mail; a member adds an address, verifies it from the mail and chooses what comes by e-mail."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from playwright.sync_api import expect

from portal.health.models import Component, StatusSubscriber
from portal.notifications.models import Cadence, Kind, Preference

from .conftest import PHONE

pytestmark = pytest.mark.browser


def mailed_link(smtp_server, address: str, path: str, live_url: str) -> str:
    text = smtp_server.to(address)[-1].get_body(("plain",)).get_content()
    return re.search(rf"http://\S+{path}\S+/", text).group(0).replace("http://127.0.0.1:8000", live_url)


def test_a_visitor_subscribes_to_one_component_and_confirms_from_the_mail(live_url, new_page, smtp_server,
                                                                          run_effects, screenshot):
    Component.objects.create(slug="lending-pool", name="Lending pool", position=1)
    rpc = Component.objects.create(slug="ethereum-rpc", name="Ethereum RPC", position=2)
    page = new_page(viewport=PHONE)
    page.goto(live_url + "/status/", timeout=60_000)  # the first request of a session loads the URLconf
    page.get_by_test_id("subscribe-link").click()
    page.fill("#subscribe-email", "visitor@example.org")
    page.get_by_label("only the ones ticked:").check()
    page.get_by_role("checkbox", name="Ethereum RPC").check()
    page.get_by_test_id("subscribe").click()
    expect(page.get_by_test_id("subscription-sent")).to_contain_text("Check your inbox")
    run_effects()
    page.goto(mailed_link(smtp_server, "visitor@example.org", "/status/subscribe/confirm/", live_url))
    page.get_by_test_id("confirm-subscription").click()
    expect(page.get_by_test_id("subscription-confirmed")).to_contain_text("Ethereum RPC")
    screenshot(page, "status-subscription-confirmed-phone")
    subscriber = StatusSubscriber.objects.get()
    assert subscriber.confirmed_at and list(subscriber.components.all()) == [rpc]


def test_a_member_adds_verifies_and_chooses_e_mail(live_url, new_page, make_user, smtp_server, run_effects,
                                                   screenshot):
    client = Client()
    member = make_user(display_name="alice", signed_in_client=client)
    page = new_page(color_scheme="dark")
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_url}])
    page.goto(live_url + "/account/", timeout=60_000)
    page.fill("#add-email", "not an address@")
    page.get_by_test_id("add-email").click()  # the browser's own check stops it first
    assert not EmailAddress.objects.exists()
    page.fill("#add-email", "alice@example.org")
    page.get_by_test_id("add-email").click()
    expect(page.get_by_test_id("email-list")).to_contain_text("not verified yet")
    run_effects()
    page.goto(mailed_link(smtp_server, "alice@example.org", "/accounts/confirm-email/", live_url))
    page.get_by_test_id("confirm-email").click()
    expect(page.get_by_test_id("verified")).to_contain_text("alice@example.org")
    page.goto(live_url + "/account/")
    expect(page.get_by_test_id("email-list")).to_contain_text("primary")
    page.get_by_label("E-mail for: Replies to me and @mentions of me").select_option(Cadence.NOW)
    page.get_by_test_id("save-preferences").click()
    expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
    screenshot(page, "account-email-dark")
    assert Preference.objects.get(user=member, kind=Kind.REPLIES).email == Cadence.NOW
