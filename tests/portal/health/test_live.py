"""/ws/status/: anyone may watch; status changes and incident updates arrive as out-of-band fragments."""

import asyncio
import time
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from portal.asgi import application
from portal.effects.models import Effect
from portal.health import poller as poller_module
from portal.health import services
from portal.health.models import (
    Check, Component, ComponentStatusChange, Incident, IncidentFollower, Webhook, WebhookDelivery,
)
from portal.health.poller import poller
from portal.health.selectors import status_version
from portal.health.services import components_refresh
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


async def receive_containing(ws, text: str, *, tries: int = 3) -> str:
    """The next message holding `text` (the slow poll may deliver an equally valid page first)."""
    for _ in range(tries):
        html = await ws.receive_from(timeout=5)
        if text in html:
            return html
    raise AssertionError(f"no message contained {text!r}")


def communicator(origin: bytes = b"http://testserver", path: str = "/ws/status/"):
    return WebsocketCommunicator(application, path, headers=[(b"origin", origin), (b"host", b"testserver")])


@pytest.fixture
def slow_poll(settings):
    """Messages in these tests come from the broadcast, not from the consumer's catch-up poll (a full page)."""
    settings.PORTAL = {**settings.PORTAL, "HEALTH_WS_POLL_SECONDS": 60}


async def test_incident_updates_arrive_live(staff, rpc_component, slow_poll):
    ws = communicator()
    connected, _ = await ws.connect()
    assert connected
    incident = await database_sync_to_async(services.incident_create)(
        user=staff, name="RPC slow", impact="minor", status="investigating", body="Looking into it.",
        component_codes=[rpc_component.code])
    html = await ws.receive_from(timeout=5)
    assert 'id="status-banner"' in html and 'hx-swap-oob="true"' in html
    # The components under the banner are operational: it says so, and that an incident is open (was "Minor Service
    # Outage" over six components that all said "Operational").
    assert "All components operational · An incident is open" in html
    assert f'id="incident-card-{incident.code}"' in html and "Looking into it." in html
    assert 'id="status-components"' not in html  # an incident leaves the component list (and its bars) alone
    await database_sync_to_async(services.incident_update_post)(
        user=staff, incident=incident, status="identified", body="A **slow** disk.")
    html = await receive_containing(ws, "<strong>slow</strong>")
    assert f'id="incident-timeline-{incident.code}"' in html
    await ws.send_to(text_data="anonymous writes are ignored")
    assert await ws.receive_nothing(timeout=0.2)
    await ws.disconnect()


async def test_component_status_changes_arrive_live(rpc_component, db_component, slow_poll):
    ws = communicator()
    assert (await ws.connect())[0]

    def break_it():
        Check.objects.filter(component=rpc_component).update(status="major_outage")
        components_refresh(components=[rpc_component])

    await database_sync_to_async(break_it)()
    html = await ws.receive_from(timeout=5)
    assert f'id="component-{rpc_component.code}" data-status="major_outage"' in html
    assert html.count("uptime__day ") == 90  # the changed component's bars, today's included
    assert f'id="component-status-{rpc_component.code}" hx-swap-oob="true"' in html
    assert "Major System Outage" in html
    # Only what changed: not the whole list with every other component's 90 days of bars.
    assert 'id="status-components"' not in html and db_component.code not in html
    assert 'id="status-active"' not in html
    await ws.disconnect()


async def test_a_foreign_origin_is_refused():
    ws = communicator(b"https://evil.example")
    connected, _ = await ws.connect()
    assert not connected


async def test_a_socket_that_missed_changes_catches_up_on_connect(rpc_component):
    current = await database_sync_to_async(status_version)()
    fresh = communicator(path=f"/ws/status/?v={current}")
    assert (await fresh.connect())[0]
    assert await fresh.receive_nothing(timeout=0.3)
    await fresh.disconnect()
    stale = communicator(path="/ws/status/?v=0123456789abcdef")
    assert (await stale.connect())[0]
    assert 'id="status-banner"' in await stale.receive_from(timeout=5)
    await stale.disconnect()


async def test_an_incident_page_catches_up_with_its_timeline(staff, rpc_component):
    incident = await database_sync_to_async(services.incident_create)(
        user=staff, name="RPC slow", impact="minor", status="investigating", body="First look.",
        component_codes=[rpc_component.code])
    ws = communicator(path=f"/ws/status/?v=stale&incident={incident.code}")
    assert (await ws.connect())[0]
    html = await ws.receive_from(timeout=5)
    assert f'id="incident-timeline-{incident.code}"' in html and "First look." in html
    await ws.disconnect()


@pytest.mark.django_db
def test_a_private_draft_does_not_change_the_public_version(staff, rpc_component):
    before = status_version()
    draft = services.incident_create(user=None, name="RPC down", impact="critical", status="investigating",
                                     body="Seen by the sampler.", component_codes=[rpc_component.code], draft=True)
    assert status_version() == before  # no socket is sent a page for something it cannot show
    services.incident_confirm(user=staff, incident=draft)
    assert status_version() != before



class DownLayer(InMemoryChannelLayer):
    """A channel layer whose broadcasts fail, as when Redis goes away between the commit and the send."""

    async def group_send(self, group, message):
        raise ConnectionError("the channel layer is down")


@pytest.fixture
def layer_down(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.DownLayer"}}


def test_a_layer_that_fails_after_commit_costs_the_live_update_only(client, staff, member, rpc_component, layer_down,
                                                                   caplog, run_effects):
    incident = services.incident_create(user=staff, name="RPC slow", impact="minor", status="investigating",
                                        body="Looking.", component_codes=[rpc_component.code])
    IncidentFollower.objects.create(incident=incident, user=member)
    Webhook.objects.create(url="https://ops.example/hook")
    client.force_login(staff)
    response = client.post(f"/status/incidents/{incident.code}/updates/", {"status": "identified", "body": "Found it."})
    assert response.status_code == HTTPStatus.FOUND
    assert Incident.objects.get().status == "identified" and incident.updates.count() == 2
    # The effects that do not need the layer still happened; the one that does is logged.
    assert Notification.objects.filter(recipient=member, verb="incident_update").count() == 1
    run_effects()  # the webhooks' fan-out
    assert WebhookDelivery.objects.filter(event="incident.updated").count() == 1
    assert "live update to status was not sent" in caplog.text


def test_a_component_change_is_saved_when_the_layer_fails(staff, rpc_component, layer_down, caplog, run_effects):
    Webhook.objects.create(url="https://ops.example/hook")
    Check.objects.filter(component=rpc_component).update(status="major_outage")
    assert components_refresh(components=[rpc_component]) == [rpc_component]
    rpc_component.refresh_from_db()
    assert rpc_component.status == "major_outage"
    assert ComponentStatusChange.objects.get(component=rpc_component).status == "major_outage"
    assert Incident.objects.get(draft=True).components.get() == rpc_component
    assert Notification.objects.get(recipient=staff).text.startswith("Draft incident from the health checks")
    run_effects()
    assert WebhookDelivery.objects.filter(event="component.updated").count() == 1
    assert "live update to status was not sent" in caplog.text


def test_a_notification_that_fails_after_commit_leaves_the_update_and_is_retried_later(
        client, staff, member, rpc_component, monkeypatch, caplog, run_effects):
    incident = services.incident_create(user=staff, name="RPC slow", impact="minor", status="investigating",
                                        body="Looking.", component_codes=[rpc_component.code])
    IncidentFollower.objects.create(incident=incident, user=member)
    Webhook.objects.create(url="https://ops.example/hook")

    def notifications_down(**_kwargs):
        raise RuntimeError("the notification service is down")

    monkeypatch.setattr("portal.health.services.publishing.notify", notifications_down)
    client.force_login(staff)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = client.post(f"/status/incidents/{incident.code}/updates/", {"status": "monitoring", "body": "Fixed."})
        assert response.status_code == HTTPStatus.FOUND
        assert Incident.objects.get().status == "monitoring" and incident.updates.count() == 2
        assert not Notification.objects.exists()  # the attempt right after commit failed …
        run_effects()  # … and so does the worker's first attempt; the webhooks' fan-out goes its own way
    assert WebhookDelivery.objects.filter(event="incident.updated").count() == 1
    assert "the notification service is down" in caplog.text
    lost = Effect.objects.get(handler__endswith="incident_followers_notify", kwargs__incident_id=incident.pk,
                              state="pending")
    assert lost.last_error == "RuntimeError: the notification service is down"
    monkeypatch.undo()  # the service is back: the retry delivers it, once
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        run_effects()
    assert Notification.objects.filter(recipient=member, verb="incident_update").count() == 1


async def test_one_poller_per_process_catches_every_socket_up(rpc_component, db_component, settings, monkeypatch):
    """A change no broadcast carried (the sampler in another process, in-memory layer) reaches every socket from
    one shared poll: one version read per interval and one page render, however many sockets watch."""
    interval = 0.1
    settings.PORTAL = {**settings.PORTAL, "HEALTH_WS_POLL_SECONDS": interval}
    reads, renders = [], []
    monkeypatch.setattr(poller_module, "status_version", lambda: reads.append(1) or status_version())
    real_page_html = poller_module.page_html
    monkeypatch.setattr(poller_module, "page_html", lambda **kw: renders.append(kw) or real_page_html(**kw))
    sockets = [communicator() for _ in range(3)]
    for ws in sockets:
        assert (await ws.connect())[0]
    started = time.monotonic()

    async def all_watching():  # a socket joins the poller once its connect handler has read the version
        while len(poller().watchers) < 3:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(all_watching(), timeout=5)

    def outage_elsewhere():
        Component.objects.filter(pk=rpc_component.pk).update(status="major_outage", updated_at=timezone.now())

    await database_sync_to_async(outage_elsewhere)()
    for ws in sockets:
        html = await ws.receive_from(timeout=5)
        assert f'id="component-{rpc_component.code}" data-status="major_outage"' in html
    assert renders == [{"incident_code": ""}]
    assert len(reads) <= (time.monotonic() - started) / interval + 1  # per socket it would be three times that
    for ws in sockets:
        assert await ws.receive_nothing(timeout=3 * interval)  # caught up: nothing more until the next change
        await ws.disconnect()
    assert not poller().watchers and poller().task is None  # the poll stops with the last socket
