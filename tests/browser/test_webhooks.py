"""An admin adds a webhook in the site, sends it a test event and reads the delivery log; screenshots of the page."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from portal.health.models import Webhook, WebhookDelivery

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


def _signed_in(new_page, live_url, user, **options):
    client = Client()
    client.force_login(user)
    page = new_page(**options)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_url}])
    return page


def test_an_admin_adds_a_webhook_tests_it_and_reads_the_log(live_url, new_page, make_user, receiver, run_effects,
                                                           screenshot):
    admin = make_user(groups=["admins"], display_name="ops-admin")
    Webhook.objects.create(url="https://pager.example/hooks/portal", description="Pager (old)", active=False)
    page = _signed_in(new_page, live_url, admin)
    page.goto(live_url + "/status/")
    page.get_by_role("link", name="Webhooks").click()
    page.fill("#url-new", receiver.url)
    page.fill("#description-new", "Ops pager")
    page.locator("section[aria-labelledby=add-title] input[value=governance]").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator(".messages")).to_contain_text("Added. Events go to")
    hook = Webhook.objects.get(description="Ops pager")
    assert hook.topics == ["status", "governance"] and hook.active

    card = page.get_by_test_id("webhook").filter(has_text="Ops pager")
    card.get_by_role("button", name="Send a test event").click()
    expect(page.locator(".messages")).to_contain_text("A test event is on its way")
    receiver.answers = [503]  # the first attempt fails, as a receiver that is restarting would
    run_effects()  # what the task worker does
    page.reload()
    expect(page.get_by_test_id("delivery").first).to_contain_text("The receiver answered HTTP 503.")
    WebhookDelivery.objects.create(webhook=hook, event="proposal.created", body="{}", state="delivered",
                                   attempts=1, last_status_code=200, delivered_at=hook.created_at)
    page.reload()
    for name, viewport, scheme in [("desktop-light", DESKTOP, "light"), ("desktop-dark", DESKTOP, "dark"),
                                   ("phone-light", PHONE, "light"), ("phone-dark", PHONE, "dark")]:
        view = _signed_in(new_page, live_url, admin, viewport=viewport, color_scheme=scheme)
        view.goto(live_url + "/status/webhooks/")
        expect(view.get_by_test_id("delivery").first).to_be_visible()
        screenshot(view, f"webhooks-{name}")
    assert len(receiver.requests) == 1 and receiver.requests[0][0]["X-Portal-Event"] == "ping"
