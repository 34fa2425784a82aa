"""Pure status logic: thresholds, hysteresis, the page indicator. No ORM, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

OPERATIONAL = "operational"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR = "major_outage"
MAINTENANCE = "under_maintenance"

# Worst last. Maintenance is announced, so it ranks below a real outage.
SEVERITY = {OPERATIONAL: 0, MAINTENANCE: 1, DEGRADED: 2, PARTIAL: 3, MAJOR: 4}

DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
MAINTENANCE_DESCRIPTION = "Service Under Maintenance"
INDICATOR_OF_STATUS = {OPERATIONAL: "none", MAINTENANCE: "none", DEGRADED: "minor", PARTIAL: "major", MAJOR: "critical"}
INDICATOR_OF_IMPACT = {"none": "none", "maintenance": "none", "minor": "minor", "major": "major", "critical": "critical"}
INDICATOR_ORDER = ["none", "minor", "major", "critical"]


def worst(statuses: Iterable[str], default: str = OPERATIONAL) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=default)


@dataclass(frozen=True)
class Thresholds:
    """Where a value turns degraded, partial and major; `lower_is_worse` flips the comparison (e.g. TVL)."""

    degraded_at: float | None = None
    partial_at: float | None = None
    major_at: float | None = None
    lower_is_worse: bool = False

    def status_of(self, value: float | None) -> str:
        """The status one sample says. No value (the check could not run) is a major outage, never operational."""
        if value is None:
            return MAJOR
        for status, limit in ((MAJOR, self.major_at), (PARTIAL, self.partial_at), (DEGRADED, self.degraded_at)):
            if limit is None:
                continue
            if (value <= limit) if self.lower_is_worse else (value >= limit):
                return status
        return OPERATIONAL


@dataclass(frozen=True)
class Hysteresis:
    """The settled status of a check and a candidate that must be seen `required` times in a row to take over.

    A failed run (the check could not run at all) takes over at once: an unreachable node is not a slow sample.
    """

    status: str = OPERATIONAL
    pending: str = ""
    count: int = 0

    def observe(self, observed: str, *, required: int, failed: bool = False) -> Hysteresis:
        if observed == self.status:
            return Hysteresis(self.status)
        if failed or required <= 1:
            return Hysteresis(observed)
        count = self.count + 1 if observed == self.pending else 1
        if count >= required:
            return Hysteresis(observed)
        return Hysteresis(self.status, observed, count)


def settle(statuses: Iterable[tuple[str, bool]], *, required: int, start: str = OPERATIONAL) -> list[str]:
    """The settled status after each (observed status, failed) sample of a sequence; handy for tests and backfills."""
    state = Hysteresis(start)
    settled = []
    for observed, failed in statuses:
        state = state.observe(observed, required=required, failed=failed)
        settled.append(state.status)
    return settled


def page_indicator(component_statuses: Iterable[str], incident_impacts: Iterable[str] = ()) -> str:
    """Statuspage's indicator: the worst of the components' statuses and the open incidents' impacts."""
    levels = [INDICATOR_OF_STATUS[s] for s in component_statuses]
    levels += [INDICATOR_OF_IMPACT.get(i, "none") for i in incident_impacts]
    return max(levels, key=INDICATOR_ORDER.index, default="none")


def page_description(indicator: str, *, any_maintenance: bool = False) -> str:
    if indicator == "none" and any_maintenance:
        return MAINTENANCE_DESCRIPTION
    return DESCRIPTIONS[indicator]
