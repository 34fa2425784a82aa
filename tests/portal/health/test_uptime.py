"""Uptime bars across day boundaries and time zones."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from portal.health.models import ComponentStatusChange
from portal.health.selectors import uptime_bars, uptime_percent
from portal.health.uptime import day_bars

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_an_outage_across_midnight_counts_on_both_days():
    log = [(NOW - timedelta(days=5), "operational"),
           (datetime(2026, 3, 8, 23, 0, tzinfo=UTC), "major_outage"),
           (datetime(2026, 3, 9, 1, 0, tzinfo=UTC), "operational")]
    bars = day_bars(log, days=4, tz=ZoneInfo("UTC"), now=NOW)
    assert [b.day.isoformat() for b in bars] == ["2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]
    mar8, mar9 = bars[1], bars[2]
    assert mar8.status == "major_outage" and mar8.seconds["major_outage"] == 3600
    assert mar9.status == "major_outage" and mar9.seconds["major_outage"] == 3600
    assert mar8.uptime == pytest.approx(23 / 24)
    assert mar8.uptime_percent == "95.83%"
    assert mar8.summary == ["1 h major outage"]
    assert bars[3].status == "operational" and bars[3].observed_seconds == 12 * 3600  # today: until now


def test_the_same_log_in_another_time_zone_falls_on_one_day():
    # 23:00–01:00 UTC is 00:00–02:00 in Berlin (UTC+1 in March before DST): one day only.
    log = [(NOW - timedelta(days=5), "operational"),
           (datetime(2026, 3, 8, 23, 0, tzinfo=UTC), "partial_outage"),
           (datetime(2026, 3, 9, 1, 0, tzinfo=UTC), "operational")]
    bars = day_bars(log, days=4, tz=ZoneInfo("Europe/Berlin"), now=NOW)
    statuses = {b.day.isoformat(): b.status for b in bars}
    assert statuses == {"2026-03-07": "operational", "2026-03-08": "operational", "2026-03-09": "partial_outage",
                        "2026-03-10": "operational"}
    assert bars[2].seconds == {"partial_outage": 7200}


def test_a_dst_day_has_23_hours():
    now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    log = [(now - timedelta(days=10), "operational")]
    bars = day_bars(log, days=3, tz=ZoneInfo("America/New_York"), now=now)  # DST began 8 March 2026 in the US
    assert [b.observed_seconds / 3600 for b in bars[:2]] == [24, 23]


def test_days_before_the_log_have_no_data_and_degraded_counts_as_up():
    log = [(datetime(2026, 3, 9, 12, 0, tzinfo=UTC), "degraded_performance")]
    bars = day_bars(log, days=3, tz=ZoneInfo("UTC"), now=NOW)
    assert bars[0].status == "nodata" and bars[0].uptime is None and bars[0].uptime_percent == ""
    assert bars[1].status == "degraded_performance" and bars[1].uptime == 1.0


@pytest.mark.django_db
def test_uptime_bars_from_the_database_in_a_time_zone(db_component):
    with time_machine.travel(NOW, tick=False):
        ComponentStatusChange.objects.create(component=db_component, status="operational", at=NOW - timedelta(days=200))
        ComponentStatusChange.objects.create(component=db_component, status="major_outage",
                                             at=datetime(2026, 3, 9, 22, 30, tzinfo=UTC))
        ComponentStatusChange.objects.create(component=db_component, status="operational",
                                             at=datetime(2026, 3, 9, 23, 30, tzinfo=UTC))
        utc = uptime_bars([db_component])[db_component.pk]
        tokyo = uptime_bars([db_component], tz_name="Asia/Tokyo")[db_component.pk]
    assert len(utc) == 90 and all(b.status != "nodata" for b in utc)  # the change 200 days ago sets the start
    assert utc[-2].day.isoformat() == "2026-03-09" and utc[-2].status == "major_outage"
    # 22:30–23:30 UTC is 07:30–08:30 on 10 March in Tokyo, which is "today" there (21:00 local).
    assert tokyo[-1].day.isoformat() == "2026-03-10" and tokyo[-1].status == "major_outage"
    assert tokyo[-2].status == "operational"
    assert uptime_percent(utc).startswith("99.9")
