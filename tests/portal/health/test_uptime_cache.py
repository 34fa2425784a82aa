"""The status page keeps each component's finished days rendered for the day: what it serves from that cache is
exactly what it computes fresh, and a new status-log row, an incident or a new day is never hidden by it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from portal.health.live import attach_uptime
from portal.health.models import ComponentStatusChange, Incident

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _bars_html(component) -> str:
    attach_uptime([component])
    return component.past_bars_html + "|" + str([(bar.status, bar.seconds) for bar, _ in component.bars]) + component.uptime


def _uptime(page: str) -> str:
    """The uptime sections of a page (the rest carries per-request tokens)."""
    return "".join(re.findall(r'<div class="uptime".*?</div>\s*</div>', page, flags=re.S))


@pytest.fixture
def logged(db_component):
    ComponentStatusChange.objects.create(component=db_component, status="operational", at=NOW - timedelta(days=200))
    ComponentStatusChange.objects.create(component=db_component, status="major_outage", at=NOW - timedelta(days=3, hours=2))
    ComponentStatusChange.objects.create(component=db_component, status="operational", at=NOW - timedelta(days=3, hours=1))
    return db_component


def test_the_status_page_from_the_day_cache_is_the_page_computed_fresh(logged):
    with time_machine.travel(NOW, tick=False):
        cache.clear()
        fresh = _uptime(Client().get("/status/").content.decode())
        cached = _uptime(Client().get("/status/").content.decode())  # the finished days from the cache
        assert cached == fresh and "1 h major outage" in cached
        assert cached.count('class="uptime__day ') == 90


def test_a_new_status_log_row_an_incident_and_a_new_day_are_never_hidden_by_the_cache(logged):
    with time_machine.travel(NOW, tick=False) as clock:
        before = _bars_html(logged)
        # a row written into the past (a backfill) is in the next page
        ComponentStatusChange.objects.create(component=logged, status="partial_outage", at=NOW - timedelta(days=5))
        ComponentStatusChange.objects.create(component=logged, status="operational", at=NOW - timedelta(days=5) + timedelta(minutes=30))
        backfilled = _bars_html(logged)
        assert backfilled != before and "30 min partial outage" in backfilled
        cache.clear()
        assert _bars_html(logged) == backfilled
        # an incident on a past day is named in that day's bar
        incident = Incident.objects.create(name="Replica lag", impact="minor", started_at=NOW - timedelta(days=3, hours=2),
                                           resolved_at=NOW - timedelta(days=3))
        incident.components.add(logged)
        assert "Replica lag" in _bars_html(logged)
        # the next day today's bar joins the finished days
        ComponentStatusChange.objects.create(component=logged, status="degraded_performance", at=NOW + timedelta(hours=1))
        clock.shift(timedelta(days=1))
        next_day = _bars_html(logged)
        cache.clear()
        assert _bars_html(logged) == next_day and "degraded performance" in next_day
