"""/status/ renders what every reader sees once per status version, status-log row and minute: each change shows
at once, and each reader still gets their own buttons, follow state and CSRF token whoever primed the cache."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from portal.health import services
from portal.health.models import ComponentStatusChange, StatusFollower

pytestmark = pytest.mark.django_db


def _status(client: Client) -> str:
    response = client.get("/status/")
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_a_new_incident_and_its_updates_show_at_once(client, staff, rpc_component):
    assert "Slow RPC" not in _status(client)
    incident = services.incident_create(user=staff, name="Slow RPC", impact="minor", status="investigating",
                                        body="Reads are slow.", component_codes=[rpc_component.code])
    assert "Slow RPC" in _status(client) and "Reads are slow." in _status(client)
    services.incident_update_post(user=staff, incident=incident, status="resolved", body="A disk was replaced.")
    page = _status(client)
    assert 'id="incident-card-' not in page  # no longer active
    assert "A disk was replaced." in page  # in the past incidents


def test_a_component_status_change_shows_at_once(client, rpc_component):
    assert 'data-status="operational"' in _status(client)
    rpc_component.status = "major_outage"
    rpc_component.save()
    page = _status(client)
    assert 'data-status="major_outage"' in page and 'data-indicator="critical"' in page


def test_a_status_log_row_changes_todays_bar_at_once(client, rpc_component):
    before = _status(client)
    ComponentStatusChange.objects.create(component=rpc_component, status="major_outage",
                                         at=timezone.now() - timedelta(hours=1))
    assert _status(client) != before


def test_the_page_is_rendered_again_each_minute(client, rpc_component):
    now = timezone.now().replace(second=10)
    with time_machine.travel(now, tick=False):
        first = _status(client)
    with time_machine.travel(now + timedelta(minutes=1), tick=False):
        assert _status(client) != first  # the banner's time, and today's bar


def test_each_reader_sees_their_own_parts_whoever_primed_it(staff, member, rpc_component):
    staff_client, member_client, anonymous = Client(), Client(), Client()
    staff_client.force_login(staff)
    member_client.force_login(member)
    StatusFollower.objects.create(user=member)
    primed = _status(staff_client)
    assert "Report an incident" in primed and "Ethereum RPC" in primed
    mine = _status(member_client)
    assert "Report an incident" not in mine and "Following incidents ✓" in mine and "Ethereum RPC" in mine
    theirs = _status(anonymous)
    assert "Report an incident" not in theirs and 'data-testid="follow-all"' not in theirs
    assert 'data-testid="siwe-signin"' in theirs and "Ethereum RPC" in theirs
    assert member_client.cookies["csrftoken"].value != staff_client.cookies["csrftoken"].value


def test_the_page_is_served_when_the_cache_is_down(client, staff, rpc_component, settings):
    services.incident_create(user=staff, name="Slow RPC", impact="minor", status="investigating", body="Slow.",
                             component_codes=[rpc_component.code])
    # The portal's own backend on a dead Redis (the uptime bars read the cache directly and rely on it degrading).
    settings.CACHES = {"default": {"BACKEND": "portal.cache.DegradingRedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 1}}}
    for _ in range(2):
        assert "Slow RPC" in _status(client)
