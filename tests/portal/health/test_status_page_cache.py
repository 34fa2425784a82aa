"""/status/ renders what every reader sees once per status version, status-log row and minute: each change shows
at once, and each reader still gets their own buttons, follow state and CSRF token whoever primed the cache. A
signed-out reader gets the whole page from the cache with their own CSRF token and the time of their request."""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.template.response import TemplateResponse
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from portal import cache as portal_cache
from portal.health import services, views
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


def _csrf_in_page(page: str) -> list[str]:
    return re.findall(r'"X-CSRFToken": "([A-Za-z0-9]+)"|name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', page)


def test_a_signed_out_reader_gets_a_working_csrf_token_of_their_own(rpc_component):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = [_status(first), _status(second)]  # the second is served from the page the first one's request built
    tokens = [{value for pair in _csrf_in_page(page) for value in pair if value} for page in pages]
    assert all(len(found) == 1 for found in tokens) and tokens[0] != tokens[1]
    assert pages[0].count(next(iter(tokens[0]))) == 2  # the header for htmx and the subscribe form
    answer = second.post("/status/subscribe/", {"email": "reader@example.org", "scope": "all",
                                                "csrfmiddlewaretoken": next(iter(tokens[1]))})
    assert answer.status_code == HTTPStatus.FOUND and answer["Location"] == "/status/subscribe/sent/"
    refused = first.post("/status/subscribe/", {"email": "reader@example.org", "scope": "all",
                                                "csrfmiddlewaretoken": "x" * 64})
    assert refused.status_code == HTTPStatus.FORBIDDEN


def test_the_banner_tells_the_time_of_each_request(client, rpc_component):
    now = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(now, tick=False):
        first = _status(client)
    with time_machine.travel(now + timedelta(seconds=20), tick=False):
        second = _status(client)
    assert f'{now:%H:%M}:05 UTC</time>' in first and f'{now:%H:%M}:25 UTC</time>' in second


def test_the_signed_out_page_is_the_page_the_template_renders(client, rpc_component, staff, rf):
    services.incident_create(user=staff, name="Slow RPC", impact="minor", status="investigating", body="Reads are slow.",
                             component_codes=[rpc_component.code])
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        _status(client)  # builds the page kept for signed-out readers
        served = _status(client)
        request = rf.get("/status/")
        request.user = AnonymousUser()
        request.resolver_match = resolve("/status/")
        rendered = TemplateResponse(request, "health/index.html", views._index_context(request)).render()
    token = re.compile(r"[A-Za-z0-9]{64}")
    assert "Slow RPC" in served and token.sub("TOKEN", served) == token.sub("TOKEN", rendered.content.decode())


def test_a_signed_out_reader_with_a_message_sees_it_once(client, rpc_component, rf):
    storage = CookieStorage(rf.get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "Your e-mail is confirmed.")])
    assert "Your e-mail is confirmed." in _status(client)
    assert "Your e-mail is confirmed." not in _status(client)


@pytest.mark.django_db(transaction=True)
def test_committed_writes_show_at_once_through_the_kept_sqlite_reader(client, staff, rpc_component):
    """Outside a test transaction, as in a server: on SQLite the version is read through the process's kept-open
    reader connection, and each commit (an incident, its update, a status-log row, a component) still shows at once."""
    assert "Slow RPC" not in _status(client)
    incident = services.incident_create(user=staff, name="Slow RPC", impact="minor", status="investigating",
                                        body="Reads are slow.", component_codes=[rpc_component.code])
    assert "Slow RPC" in _status(client)
    services.incident_update_post(user=staff, incident=incident, status="identified", body="A disk is failing.")
    assert "A disk is failing." in _status(client)
    before = _status(client)
    ComponentStatusChange.objects.create(component=rpc_component, status="major_outage",
                                         at=timezone.now() - timedelta(hours=1))
    assert _status(client) != before
    rpc_component.status = "major_outage"
    rpc_component.save()
    assert 'data-indicator="critical"' in _status(client)
    if connection.vendor == "sqlite":  # the reader it was about answered (on PostgreSQL the pool's connection does)
        assert portal_cache._readers


def test_a_local_copy_is_read_first_and_a_new_version_builds_anew():
    builds = []

    def build(label):
        builds.append(label)
        return label

    assert portal_cache.cached_version("test:local:v1", lambda: build("one"), local=True) == "one"
    cache.clear()  # the shared copy gone: this process's copy still answers, without a build
    assert portal_cache.cached_version("test:local:v1", lambda: build("again"), local=True) == "one"
    assert portal_cache.cached_version("test:local:v2", lambda: build("two"), local=True) == "two"
    for n in range(portal_cache.LOCAL_ENTRIES):  # a bounded few: the oldest leave
        portal_cache.cached_version(f"test:local:other-{n}", lambda: "other", local=True)
    cache.clear()
    assert portal_cache.cached_version("test:local:v1", lambda: build("rebuilt"), local=True) == "rebuilt"
    assert builds == ["one", "two", "rebuilt"]
