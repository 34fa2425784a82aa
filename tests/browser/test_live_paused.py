"""Redis stopped under an open page (a private redis-server, never the machine's): the page says live updates are
paused, a comment saved meanwhile is kept, and within 5 s of Redis returning the socket is open again, the notice
gone and the comment on the page without a reload."""

from __future__ import annotations

import datetime
import time

import pytest
from playwright.sync_api import expect

from portal.discussion.models import Comment
from portal.discussion.services import DEFAULT_CATEGORIES, category_ensure, comment_post, thread_create

from .conftest import PHONE, wait_for_socket

pytestmark = pytest.mark.browser


@pytest.fixture
def thread(live_url):
    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)
    return thread_create(title="Pause the USDC market during the oracle upgrade", category_slug="governance",
                         author=None, body="The oracle moves to a new feed on Tuesday.")


@pytest.mark.chain  # the comment renders its author's loyalty tier: a real node answers at once
def test_redis_down_the_page_says_live_updates_are_paused_then_catches_up_within_5_seconds(
    live_url, new_page, redis_channel_layer, thread, make_user, screenshot
):
    author = make_user(joined=datetime.timedelta(days=60))
    page = new_page()
    page.goto(live_url + thread.get_absolute_url())
    wait_for_socket(page, "#thread-live")
    notice = page.get_by_test_id("live-paused")
    expect(notice).to_be_hidden()

    redis_channel_layer.stop()
    expect(notice).to_be_visible(timeout=5_000)
    expect(notice).to_contain_text("Live updates are paused")
    screenshot(page, "live-paused-desktop")
    phone = new_page(viewport=PHONE, color_scheme="dark")
    phone.goto(live_url + thread.get_absolute_url())
    expect(phone.get_by_test_id("live-paused")).to_be_visible(timeout=5_000)  # a page opened during the outage
    screenshot(phone, "live-paused-phone-dark")

    saved = comment_post(thread=thread, author=author, body="Posted while Redis was down: still saved.")
    assert Comment.objects.filter(pk=saved.pk).exists()  # the write holds; only its live broadcast is lost

    redis_channel_layer.start()
    back = time.monotonic()
    wait_for_socket(page, "#thread-live", opened=2, timeout=5_000)
    expect(page.get_by_text("Posted while Redis was down: still saved.")).to_be_visible(timeout=2_000)
    expect(notice).to_be_hidden()
    wait_for_socket(phone, "#thread-live", timeout=5_000)
    expect(phone.get_by_text("Posted while Redis was down: still saved.")).to_be_visible(timeout=2_000)
    assert time.monotonic() - back < 5, "the page was not live again within 5 s of Redis returning"

    comment_post(thread=thread, author=author, body="And this one arrives live again.", parent=None)
    expect(page.get_by_text("And this one arrives live again.")).to_be_visible(timeout=3_000)
