"""A live notification reaches every page without a console error; only the notifications page gets the new row."""

import pytest
from playwright.sync_api import expect

from portal.notifications.services import notify

from .conftest import wait_for_socket

pytestmark = pytest.mark.browser


def test_a_live_notification_logs_no_oob_error_on_a_page_without_the_list(live_url, signed_in_page, stranger,
                                                                          make_user):
    """Was: `htmx:oobErrorNoTarget` on the thread, status, incident and feedback pages, for the list's new row."""
    user = make_user(stranger.address)
    elsewhere = signed_in_page(stranger)
    errors = []
    elsewhere.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    elsewhere.goto(live_url + "/status/")
    listing = signed_in_page(stranger)
    listing.goto(live_url + "/notifications/")
    for page in (elsewhere, listing):
        wait_for_socket(page, ".bell-socket")

    notify(recipients=[user], verb="question_answered", text="Staff answered your question", url="/feedback/")

    expect(elsewhere.get_by_test_id("notification-toast")).to_contain_text("Staff answered your question")
    expect(elsewhere.get_by_test_id("notification-count")).to_have_text("1")
    expect(listing.get_by_test_id("notification-list").locator("li").first).to_contain_text("Staff answered")
    assert errors == []
