import asyncio
import threading
from functools import partial
from http import HTTPStatus

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from portal.notifications.consumers import NotificationConsumer
from portal.notifications.live import notification_fragments
from portal.notifications.models import DEFAULTS, Kind, Notification, Preference
from portal.notifications.services import notification_mark_read, notify

pytestmark = pytest.mark.django_db


def test_notify_skips_actor_and_muted_users_and_counts(make_user):
    alice, bob, carol, actor = (make_user(display_name=n) for n in ("alice", "bob", "carol", "actor"))
    Preference.objects.create(user=carol, kind=Kind.FEEDBACK, in_app=False, email="off")
    created = notify(
        recipients=[alice, bob, carol, actor, alice], verb="post_status", text="Planned", url="/feedback/1/", actor=actor
    )
    assert created == 2
    assert sorted(Notification.objects.values_list("recipient__display_name", flat=True)) == ["alice", "bob"]
    assert Notification.objects.get(recipient=alice).actor == actor


def test_notify_rejects_unknown_verb_and_writes_nothing(make_user):
    alice = make_user(display_name="alice")
    with pytest.raises(ValueError, match="Unknown notification verb"):
        notify(recipients=[alice], verb="nonsense", text="x", url="/")
    assert not Notification.objects.exists()


def test_centre_lists_marks_read_and_saves_preferences(client, make_user):
    alice = make_user(display_name="alice")
    notify(recipients=[alice], verb="comment_reply", text="Bob replied to you", url="/discussion/1/")
    client.force_login(alice)
    page = client.get("/notifications/")
    assert page.status_code == HTTPStatus.OK
    assert b"Bob replied to you" in page.content
    assert b'data-count="1"' in page.content  # the bell in the header
    note = Notification.objects.get()
    opened = client.get(f"/notifications/{note.pk}/")
    assert opened.status_code == HTTPStatus.FOUND and opened["Location"] == "/discussion/1/"
    assert Notification.objects.get().is_read
    # The channels live on the account page now; the centre links there.
    assert b'data-testid="preferences-link"' in page.content
    form = {f"email_{kind}": "off" for kind in Kind.values} | {"in_app_replies": "on"}
    assert client.post("/notifications/preferences/", form)["Location"] == "/account/"
    chosen = {p.kind: p.in_app for p in Preference.objects.filter(user=alice)}
    assert chosen == {kind: kind == Kind.REPLIES for kind in Kind.values}
    assert notify(recipients=[alice], verb="post_status", text="x", url="/") == 0


def test_someone_elses_notification_is_not_found(client, make_user):
    alice, bob = make_user(display_name="alice"), make_user(display_name="bob")
    notify(recipients=[alice], verb="comment_reply", text="for alice", url="/")
    client.force_login(bob)
    assert client.get(f"/notifications/{Notification.objects.get().pk}/").status_code == HTTPStatus.NOT_FOUND
    assert not Notification.objects.get().is_read


@pytest.mark.django_db(transaction=True)
def test_a_failed_push_does_not_fail_the_committed_write(settings, make_user):
    # A Redis channel layer nobody listens on: every push fails after commit.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}}
    channel_layers.backends.clear()
    try:
        alice = make_user(display_name="alice")
        with transaction.atomic():
            assert notify(recipients=[alice], verb="comment_reply", text="Bob replied", url="/") == 1
        with transaction.atomic():
            assert notification_mark_read(user=alice) == 1
        assert Notification.objects.get().is_read
    finally:
        channel_layers.backends.clear()


def test_unknown_preference_kinds_and_cadences_are_ignored(client, make_user):
    alice = make_user(display_name="alice")
    client.force_login(alice)
    form = {"in_app_nonsense": "on", "email_nonsense": "now", "email_replies": "hourly", "in_app_replies": "on",
            "email_loans": "weekly"}
    assert client.post("/notifications/preferences/", form).status_code == HTTPStatus.FOUND
    chosen = {p.kind: (p.in_app, p.email) for p in Preference.objects.filter(user=alice)}
    assert "nonsense" not in chosen and Kind.REPLIES not in chosen  # kept its defaults
    assert DEFAULTS[Kind.REPLIES] == (True, "daily")
    assert chosen[Kind.LOANS] == (False, "weekly")


def test_a_notification_never_redirects_off_site(client, make_user):
    alice = make_user(display_name="alice")
    notify(recipients=[alice], verb="comment_reply", text="x", url="https://evil.example/phish")
    client.force_login(alice)
    response = client.get(f"/notifications/{Notification.objects.get().pk}/")
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/notifications/"


def test_anonymous_centre_redirects_to_sign_in(client):
    assert client.get("/notifications/").status_code == HTTPStatus.FOUND


def in_own_loop(coroutine_function):
    """Run an async test body on a fresh event loop in its own thread, so it works whatever loop the session's other
    fixtures (Playwright's, in the browser tests) left running in the main thread."""

    def run():
        outcome = {}

        def target():
            try:
                asyncio.run(coroutine_function())
            except BaseException as error:  # noqa: BLE001 — re-raised in the test thread
                outcome["error"] = error

        thread = threading.Thread(target=target)
        thread.start()
        thread.join(timeout=30)
        if "error" in outcome:
            raise outcome["error"]

    return run


@pytest.mark.django_db(transaction=True)
def test_consumer_pushes_count_and_item_to_the_recipient_only(make_user):
    in_own_loop(partial(_consumer_pushes, make_user))()


async def _consumer_pushes(make_user):
    alice = await sync_to_async(make_user)(display_name="alice")
    bob = await sync_to_async(make_user)(display_name="bob")
    mine = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/?list=1")  # the list page
    mine.scope["user"] = alice
    elsewhere = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")  # any other page
    elsewhere.scope["user"] = alice
    theirs = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
    theirs.scope["user"] = bob
    assert (await mine.connect())[0] and (await elsewhere.connect())[0] and (await theirs.connect())[0]
    for socket in (mine, elsewhere, theirs):  # on connect: the current count, for a socket that reconnects
        assert 'data-count="0"' in await socket.receive_from(timeout=3)

    await sync_to_async(notify)(recipients=[alice], verb="question_answered", text="Staff answered", url="/feedback/2/")
    html = await mine.receive_from(timeout=3)
    assert 'id="notification-count"' in html and 'data-count="1"' in html
    assert "Staff answered" in html and 'hx-swap-oob="afterbegin:#notification-list"' in html
    # Was: the list row went to every page, and htmx logged oobErrorNoTarget where there is no list.
    html = await elsewhere.receive_from(timeout=3)
    assert 'data-count="1"' in html and "Staff answered" in html and "#notification-list" not in html
    assert await theirs.receive_nothing(timeout=0.2)
    await elsewhere.disconnect()

    await sync_to_async(notification_mark_read)(user=alice)
    html = await mine.receive_from(timeout=3)
    assert 'data-count="0"' in html and "hidden" in html
    await mine.disconnect()
    await theirs.disconnect()


def test_anonymous_socket_is_refused():
    in_own_loop(_anonymous_refused)()


async def _anonymous_refused():
    communicator = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected and code == 4401


@pytest.mark.django_db(transaction=True)
def test_the_route_is_wired_and_foreign_origins_are_refused():
    from portal.asgi import application

    async def check():
        foreign = WebsocketCommunicator(application, "/ws/notifications/", headers=[(b"origin", b"http://evil.example")])
        assert (await foreign.connect())[0] is False
        anonymous = WebsocketCommunicator(
            application, "/ws/notifications/", headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")]
        )
        connected, code = await anonymous.connect()
        assert not connected and code == 4401  # reached our consumer, which wants a signed-in user

    in_own_loop(check)()


def test_fan_out_costs_the_same_queries_for_many_recipients(django_assert_max_num_queries, make_user):
    users = [make_user(display_name=f"user{i}") for i in range(30)]
    notify(recipients=users, verb="post_status", text="Done", url="/feedback/1/")
    ids = list(Notification.objects.values_list("pk", flat=True))
    with django_assert_max_num_queries(3):
        assert len(notification_fragments(notification_ids=ids)) == 30
    # Channels (1), the bell rows (1), the addresses of those who want mail (1): the same for 1 or 30 recipients.
    with django_assert_max_num_queries(3):
        notify(recipients=users, verb="post_status", text="Again", url="/feedback/1/")
