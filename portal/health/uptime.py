"""Uptime bars from a status log: pure functions of (changes, days, time zone, now). No ORM."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Sequence

from . import status as s

DOWN = (s.PARTIAL, s.MAJOR)


@dataclass(frozen=True)
class DayBar:
    day: date
    status: str  # the worst status seen that day, or "nodata"
    uptime: float | None  # share of the observed time not in a partial or major outage, 0..1
    observed_seconds: float
    seconds: dict[str, float] = field(default_factory=dict)  # non-operational statuses → seconds

    @property
    def uptime_percent(self) -> str:
        if self.uptime is None:
            return ""
        return f"{self.uptime * 100:.2f}".rstrip("0").rstrip(".") + "%"

    @property
    def summary(self) -> list[str]:
        """Sentences for the hover: how long each bad status lasted."""
        return [f"{human_duration(seconds)} {status.replace('_', ' ')}" for status, seconds in self.seconds.items()]


def human_duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def local_midnight(day: date, tz: tzinfo) -> datetime:
    # In UTC: subtracting two datetimes of one zone is wall-clock arithmetic and would miss the DST hour.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def intervals(changes: Sequence[tuple[datetime, str]], *, now: datetime):
    """(start, end, status) runs from a time-ordered status log; the last run lasts until now."""
    for index, (start, status) in enumerate(changes):
        end = changes[index + 1][0] if index + 1 < len(changes) else now
        if end > start:
            yield start, min(end, now), status


def day_bars(changes: Sequence[tuple[datetime, str]], *, days: int, tz: tzinfo, now: datetime) -> list[DayBar]:
    """One bar per calendar day in `tz`, oldest first, ending with today. Days are cut at local midnight, so a
    day around a DST change has 23 or 25 hours; time before the first log entry counts as no data."""
    today = now.astimezone(tz).date()
    runs = list(intervals(changes, now=now))
    bars = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start, end = local_midnight(day, tz), min(local_midnight(day + timedelta(days=1), tz), now)
        seconds: dict[str, float] = {}
        for run_start, run_end, status in runs:
            overlap = (min(end, run_end) - max(start, run_start)).total_seconds()
            if overlap > 0:
                seconds[status] = seconds.get(status, 0.0) + overlap
        observed = sum(seconds.values())
        if observed <= 0:
            bars.append(DayBar(day, "nodata", None, 0.0))
            continue
        down = sum(seconds.get(status, 0.0) for status in DOWN)
        bad = {st: sec for st, sec in sorted(seconds.items(), key=lambda i: -s.SEVERITY[i[0]]) if st != s.OPERATIONAL}
        bars.append(DayBar(day, s.worst(seconds), (observed - down) / observed, observed, bad))
    return bars


def uptime_share(bars: Sequence[DayBar]) -> float | None:
    """Uptime over several days, weighted by observed time."""
    observed = sum(bar.observed_seconds for bar in bars)
    if observed <= 0:
        return None
    return sum(bar.uptime * bar.observed_seconds for bar in bars if bar.uptime is not None) / observed
