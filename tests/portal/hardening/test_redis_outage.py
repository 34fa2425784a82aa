"""Redis stopped and restarted: pages, writes and rate limits keep working; new sockets work again within 5 s."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
import redis
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from governance.tiers import loyalty_standings
from portal.asgi import application
from portal.discussion.models import Comment
from portal.discussion.services import DEFAULT_CATEGORIES, category_ensure, thread_create
from portal.feedback.models import Post
from portal.feedback.models import Vote as Upvote
from portal.health.live import STATUS_GROUP
from portal.siwe.views import NONCE_LIMIT

NONCE_URL = "/accounts/siwe/nonce/"


@pytest.mark.django_db
def test_redis_down_nonce_and_rate_limit_fall_back_to_this_process(redis_cache, caplog, frozen_clock, node):
    client = Client(REMOTE_ADDR="198.51.100.20")
    assert client.get(NONCE_URL).status_code == HTTPStatus.OK
    redis_cache.stop()
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        statuses = [client.get(NONCE_URL).status_code for _ in range(NONCE_LIMIT.count + 1)]
    # The limit still holds, counted in this process (its count restarted with the outage).
    assert statuses[: NONCE_LIMIT.count] == [HTTPStatus.OK] * NONCE_LIMIT.count
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    assert [r.getMessage() for r in caplog.records if "Redis cache unavailable" in r.getMessage()], caplog.text
    assert len([r for r in caplog.records if "Redis cache unavailable" in r.getMessage()]) == 1  # once per outage


@pytest.mark.django_db
def test_redis_down_tiers_read_without_the_cache(redis_cache, contracts, dev_accounts):
    address = dev_accounts[3].address
    redis_cache.stop()
    standing = loyalty_standings([address])[address]
    assert standing.weight == Decimal(800) and standing.tier.slug == "bronze"  # read from the chain, not a 500
    assert loyalty_standings([address])[address].weight == Decimal(800)


@pytest.mark.django_db
def test_redis_back_the_shared_cache_is_used_again(redis_cache):
    redis_cache.stop()
    cache.set("probe", "during the outage")
    assert cache.get("probe") == "during the outage"  # this process's memory
    redis_cache.start()
    cache.set("probe", "after")
    raw = redis.Redis(port=redis_cache.port)
    assert raw.exists(":1:probe") == 1
    assert cache.get("probe") == "after"


@pytest.mark.django_db(transaction=True)
async def test_redis_restarted_new_sockets_work_within_5_seconds(redis_channel_layer):
    private_redis = redis_channel_layer
    origin = [(b"origin", b"http://testserver")]
    before = WebsocketCommunicator(application, "/ws/status/", headers=origin)
    assert (await before.connect())[0]
    private_redis.stop()
    # The open socket loses its channel-layer read; it closes and the page's htmx socket reconnects.
    with pytest.raises(redis.exceptions.ConnectionError):
        await before.disconnect()
    private_redis.start()
    started = time.monotonic()
    while True:
        socket = WebsocketCommunicator(application, "/ws/status/", headers=origin)
        try:
            connected, _ = await socket.connect(timeout=2)
            if connected:
                await get_channel_layer().group_send(
                    STATUS_GROUP, {"type": "status.update", "version": "probe", "html": '<p id="probe"></p>'}
                )
                assert await socket.receive_from(timeout=2) == '<p id="probe"></p>'
                break
        except Exception:  # noqa: BLE001 — a socket refused while the layer reconnects; try a new one
            pass
        finally:
            await socket.disconnect()
        assert time.monotonic() - started < 5, "new sockets still fail 5 s after Redis returned"
    assert time.monotonic() - started < 5


@pytest.mark.chain  # the pages show the member's loyalty tier, read from the chain when the cache is gone
@pytest.mark.django_db
def test_redis_down_signed_in_pages_and_writes_answer_instead_of_500(redis_cache, contracts, dev_accounts, make_user):
    """Issue 11: with Redis stopped every signed-in page and every write answered 500 (tiers' cache.get_many,
    the rate limiter's cache.add)."""
    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)
    thread = thread_create(title="Redis drill", category_slug="general", author=None)
    client = Client()
    member = make_user(dev_accounts[3].address, joined=timedelta(days=60), signed_in_client=client)
    post = Post.objects.create(author=member, kind="idea", title="Keep working without Redis", body="Please.")
    redis_cache.stop()
    for url in ("/", "/proposals/", thread.get_absolute_url(), "/status/", "/feedback/", reverse("accounts:index")):
        assert client.get(url).status_code == HTTPStatus.OK, url
    assert client.post(f"{thread.get_absolute_url()}comments/", {"body": "Still here"}).status_code == HTTPStatus.FOUND
    assert Comment.objects.filter(thread=thread, body="Still here").exists()
    assert client.post(f"/api/v1/feedback/{post.pk}/vote").status_code == HTTPStatus.CREATED
    assert Upvote.objects.filter(post=post, user=member).exists()
