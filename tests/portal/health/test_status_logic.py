"""Thresholds and hysteresis on sequences of samples (pure functions)."""

import pytest

from portal.health.status import (
    DEGRADED, MAINTENANCE, MAJOR, OPERATIONAL, PARTIAL, Hysteresis, Thresholds, page_description, page_indicator, settle,
)

LATENCY = Thresholds(degraded_at=500, partial_at=2000, major_at=8000)
TVL = Thresholds(degraded_at=1000, major_at=0, lower_is_worse=True)


@pytest.mark.parametrize("value, expected", [
    (10, OPERATIONAL), (499.9, OPERATIONAL), (500, DEGRADED), (1999, DEGRADED), (2000, PARTIAL), (8000, MAJOR),
    (None, MAJOR),
])
def test_higher_is_worse(value, expected):
    assert LATENCY.status_of(value) == expected


@pytest.mark.parametrize("value, expected", [(5000, OPERATIONAL), (1000, DEGRADED), (1, DEGRADED), (0, MAJOR), (None, MAJOR)])
def test_lower_is_worse(value, expected):
    assert TVL.status_of(value) == expected


def test_no_thresholds_is_informational_but_a_failed_run_is_still_an_outage():
    assert Thresholds().status_of(1e30) == OPERATIONAL
    assert Thresholds().status_of(None) == MAJOR


def test_one_slow_sample_does_not_flap():
    samples = [(OPERATIONAL, False), (DEGRADED, False), (OPERATIONAL, False), (DEGRADED, False), (OPERATIONAL, False)]
    assert settle(samples, required=2) == [OPERATIONAL] * 5


def test_status_changes_after_n_agreeing_samples_and_back():
    samples = [(DEGRADED, False)] * 3 + [(OPERATIONAL, False)] * 3
    assert settle(samples, required=3) == [OPERATIONAL, OPERATIONAL, DEGRADED, DEGRADED, DEGRADED, OPERATIONAL]


def test_a_different_candidate_restarts_the_count():
    samples = [(DEGRADED, False), (PARTIAL, False), (PARTIAL, False)]
    assert settle(samples, required=2) == [OPERATIONAL, OPERATIONAL, PARTIAL]


def test_a_failed_run_is_an_outage_at_once_and_recovery_needs_n_samples():
    samples = [(MAJOR, True), (OPERATIONAL, False), (OPERATIONAL, False), (OPERATIONAL, False)]
    assert settle(samples, required=3) == [MAJOR, MAJOR, MAJOR, OPERATIONAL]


def test_required_one_follows_every_sample():
    assert settle([(DEGRADED, False), (OPERATIONAL, False)], required=1) == [DEGRADED, OPERATIONAL]


def test_hysteresis_state_is_kept_between_runs():
    state = Hysteresis().observe(DEGRADED, required=2)
    assert (state.status, state.pending, state.count) == (OPERATIONAL, DEGRADED, 1)
    assert state.observe(DEGRADED, required=2).status == DEGRADED


@pytest.mark.parametrize("statuses, impacts, indicator", [
    ([OPERATIONAL, OPERATIONAL], [], "none"),
    ([OPERATIONAL, MAINTENANCE], [], "none"),
    ([OPERATIONAL, DEGRADED], [], "minor"),
    ([PARTIAL, DEGRADED], [], "major"),
    ([MAJOR, OPERATIONAL], [], "critical"),
    ([OPERATIONAL], ["major"], "major"),
    ([OPERATIONAL], ["maintenance"], "none"),
])
def test_page_indicator(statuses, impacts, indicator):
    assert page_indicator(statuses, impacts) == indicator


def test_page_descriptions_are_statuspage_s():
    assert page_description("none") == "All Systems Operational"
    assert page_description("none", any_maintenance=True) == "Service Under Maintenance"
    assert page_description("critical") == "Major System Outage"
