"""A live update whose fragment could not be built because the database blinked (its connection terminated between
the write's commit and the render) is built again a moment later, so a reader whose socket stayed open still gets
the comment: before, it was logged and lost until the reader reconnected or reloaded."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, connections

from portal import live
from portal.discussion.live import comment_broadcast, thread_group
from portal.discussion.services import DEFAULT_CATEGORIES, category_ensure, comment_post, thread_create

pytestmark = [pytest.mark.chain, pytest.mark.django_db(transaction=True)]


def test_a_comment_whose_live_render_met_a_dropped_connection_still_reaches_an_open_page(make_user, settings,
                                                                                         monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("terminates this test's own PostgreSQL backend")
    monkeypatch.setattr(live, "BUILD_RETRY_SECONDS", (0.5, 1, 2))
    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)
    thread = thread_create(title="Blink", category_slug="general", author=None)
    comment = comment_post(thread=thread, author=make_user(), body="Saved while the database blinked.")
    layer = get_channel_layer()
    reader = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(thread_group(thread.pk), reader)

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()

    comment_broadcast(comment=comment, event="created")  # no transaction: on_commit runs now, on the dead connection

    async def delivered():
        return await asyncio.wait_for(layer.receive(reader), timeout=15)

    try:
        message = async_to_sync(delivered)()
    finally:
        connection.close()  # the terminated one: the test database's teardown opens a fresh connection
    assert message["type"] == "comment.changed"
    assert any("Saved while the database blinked." in html for html in message["html"].values())
