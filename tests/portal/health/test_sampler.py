"""The sampler against real anvil nodes: an RPC outage and recovery, oracle freshness, contract metrics, retention."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from governance import chain as chain_module
from governance.contracts import artifact
from governance.devchain import free_port, start_anvil, stop_anvil
from portal.health.checks import CheckFailed, ViewSignature, read_view
from portal.health.models import (
    Check, CheckKind, Component, ComponentStatusChange, Direction, HourlyRollup, Incident, Sample,
)
from portal.health.services import checks_run_due, samples_roll_up
from portal.notifications.models import Notification

pytestmark = pytest.mark.chain
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def own_anvil(anvil_url):
    """An anvil of this test's own, so it can be stopped and started again on the same port."""
    port = free_port()
    process = start_anvil(port=port)
    previous = settings.PORTAL["CHAIN_RPC_URL"]
    settings.PORTAL["CHAIN_RPC_URL"] = f"http://127.0.0.1:{port}"
    chain_module._nodes.clear()
    state = {"process": process, "port": port}
    yield state
    stop_anvil(state["process"])
    settings.PORTAL["CHAIN_RPC_URL"] = previous
    chain_module._nodes.clear()


@pytest.mark.django_db(transaction=True)
def test_rpc_outage_within_one_interval_and_recovery(own_anvil, rpc_component, staff, member):
    check = rpc_component.checks.get()
    checks_run_due(force=True)
    rpc_component.refresh_from_db()
    assert rpc_component.status == "operational"
    assert ComponentStatusChange.objects.filter(component=rpc_component).count() == 0

    stop_anvil(own_anvil["process"])
    check.refresh_from_db()
    checks_run_due(now=check.last_run_at + timedelta(seconds=check.interval_seconds))  # the very next tick
    rpc_component.refresh_from_db()
    check.refresh_from_db()
    assert rpc_component.status == "major_outage"
    assert "cannot be reached" in check.last_error
    assert Sample.objects.filter(check_ref=check, value__isnull=True, status="major_outage").count() == 1
    draft = Incident.objects.get(draft=True)
    assert list(draft.components.all()) == [rpc_component] and draft.impact == "critical"
    assert "cannot be reached" in draft.updates.get().body
    [note] = Notification.objects.all()  # staff hear of the draft; members do not
    assert note.recipient == staff and note.text.startswith("Draft incident from the health checks: Ethereum RPC")

    own_anvil["process"] = start_anvil(port=own_anvil["port"])
    checks_run_due(force=True)  # one good sample is not enough (consecutive = 2)
    rpc_component.refresh_from_db()
    assert rpc_component.status == "major_outage"
    checks_run_due(force=True)
    rpc_component.refresh_from_db()
    assert rpc_component.status == "operational"
    assert list(ComponentStatusChange.objects.filter(component=rpc_component).values_list("status", flat=True)) == [
        "major_outage", "operational"]
    assert Incident.objects.filter(draft=True).count() == 1  # recovery opens nothing new


def _deploy_feed(node) -> str:
    compiled = artifact("HealthFeed")
    w3 = node.w3
    tx = w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"]).constructor().transact(
        {"from": w3.eth.accounts[0]})
    address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    feed = w3.eth.contract(address=address, abi=compiled["abi"])
    w3.eth.wait_for_transaction_receipt(feed.functions.setPrice(3000 * 10**8).transact({"from": w3.eth.accounts[0]}))
    return address


@pytest.mark.django_db
def test_an_oracle_that_stops_updating_turns_freshness_degraded(node, chain_snapshot):
    address = _deploy_feed(node)
    component = Component.objects.create(slug="price-oracle", name="Price oracle")
    check = Check.objects.create(
        component=component, slug="freshness", name="Price age", kind=CheckKind.CONTRACT_VIEW, unit="s",
        config={"address": address, "signature": "latestRoundData()(uint80,int256,uint256,uint256,uint80)",
                "result_index": 3, "transform": "age"},
        degraded_at=3600, partial_at=3 * 3600, major_at=12 * 3600, consecutive=2,
    )
    checks_run_due(force=True)
    check.refresh_from_db()
    assert check.status == "operational" and check.last_value < 60

    node.w3.provider.make_request("evm_increaseTime", [2 * 3600])
    node.w3.provider.make_request("evm_mine", [])
    checks_run_due(force=True)
    check.refresh_from_db()
    assert check.last_value >= 2 * 3600 and check.pending_status == "degraded_performance"
    assert component.__class__.objects.get(pk=component.pk).status == "operational"  # hysteresis: not yet
    checks_run_due(force=True)
    component.refresh_from_db()
    assert component.status == "degraded_performance"
    assert not Incident.objects.exists()  # degraded opens no draft; outages do


@pytest.mark.django_db
def test_contract_view_metrics_scale_by_decimals(node, chain_snapshot):
    address = _deploy_feed(node)
    assert read_view({"address": address, "signature": "utilization()(uint256)", "decimals": 16}) == 42.0
    assert read_view({"address": address, "signature": "latestRoundData()(uint80,int256,uint256,uint256,uint80)",
                      "result_index": 1, "decimals": 8}) == 3000.0


@pytest.mark.parametrize("config, sentence", [
    ({"signature": "utilization()"}, "is not a function signature with outputs"),
    ({"signature": "utilization()(uint256)", "args": [1]}, "takes 0 arguments but 1 are configured"),
    ({"signature": "utilization()(uint256)", "result_index": 3}, "there is no value number 3"),
    ({"signature": "totalSupply()(uint256)", "address": "0x000000000000000000000000000000000000dEaD"},
     "There is no contract at"),
    ({"signature": "utilization()(uint256)", "contract": "NoSuchContract", "address": None},
     "The NoSuchContract contract is not deployed"),
])
def test_a_misconfigured_metric_says_why(node, chain_snapshot, config, sentence):
    config = {"address": _deploy_feed(node), **config}
    with pytest.raises(CheckFailed, match=sentence):
        read_view(config)


def test_signatures_parse():
    parsed = ViewSignature.parse("latestRoundData()(uint80,int256,uint256,uint256,uint80)")
    assert parsed.inputs == [] and parsed.outputs == ["uint80", "int256", "uint256", "uint256", "uint80"]
    assert parsed.selector.hex() == "feaf968c"
    assert ViewSignature.parse("balanceOf(address)(uint256)").inputs == ["address"]


@pytest.mark.django_db
def test_database_and_channel_layer_checks_measure_a_round_trip(db_component):
    realtime = Component.objects.create(slug="realtime", name="Live updates")
    Check.objects.create(component=realtime, slug="rt", name="Channel layer", kind=CheckKind.CHANNEL_LAYER,
                         degraded_at=1000, direction=Direction.HIGHER_IS_WORSE)
    samples = checks_run_due(force=True)
    assert len(samples) == 2 and all(s.value is not None and s.value >= 0 for s in samples)
    assert set(Component.objects.values_list("status", flat=True)) == {"operational"}


@pytest.mark.django_db
def test_checks_run_only_when_due(db_component):
    check = db_component.checks.get()
    checks_run_due()
    check.refresh_from_db()
    assert checks_run_due(now=check.last_run_at + timedelta(seconds=check.interval_seconds - 1)) == []
    assert len(checks_run_due(now=check.last_run_at + timedelta(seconds=check.interval_seconds))) == 1


@pytest.mark.django_db
def test_hourly_rollups_and_retention(db_component):
    check = db_component.checks.get()
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    hour = now.replace(minute=0) - timedelta(hours=2)
    for minutes, value in ((1, 10.0), (20, 30.0), (40, None)):
        Sample.objects.create(check_ref=check, at=hour + timedelta(minutes=minutes), value=value,
                              status="operational" if value else "major_outage")
    Sample.objects.create(check_ref=check, at=now - timedelta(days=8), value=1.0, status="operational")
    HourlyRollup.objects.create(check_ref=check, hour=now - timedelta(days=91), count=1, failures=0, worst_status="operational")
    Sample.objects.create(check_ref=check, at=now - timedelta(minutes=5), value=5.0, status="operational")  # this hour

    assert samples_roll_up(now=now) == 2  # the 8-day-old sample's hour is rolled up before the sample goes
    rollup = HourlyRollup.objects.get(hour=hour)
    assert (rollup.count, rollup.failures, rollup.minimum, rollup.maximum, rollup.mean, rollup.worst_status) == (
        3, 1, 10.0, 30.0, 20.0, "major_outage")
    assert not Sample.objects.filter(at__lt=now - timedelta(days=7)).exists()
    assert HourlyRollup.objects.count() == 2  # the 91-day-old roll-up is gone
    assert samples_roll_up(now=now) == 0  # idempotent


@pytest.mark.django_db
def test_run_health_checks_once(db_component, capsys):
    call_command("run_health_checks", "--once")
    assert "Ran 1 checks; 0 could not run." in capsys.readouterr().out
    assert Sample.objects.count() == 1


def _line_with(stream, text: str) -> str:
    """Read `stream` up to the line holding `text`; fails if the process closes it first."""
    seen = []
    while text not in (line := stream.readline()):
        assert line, "".join(seen[-20:]) or "the stream closed"
        seen.append(line)
    return line


def test_the_long_running_sampler_survives_a_dead_chain_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, "DEBUG": "1", "PYTHONFAULTHANDLER": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
           "CHAIN_RPC_URL": f"http://127.0.0.1:{free_port()}"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "run_health_checks", "--tick", "0.2"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _line_with(process.stdout, "Health sampler running")
        # Ticks against a database without tables: each is logged and retried, never fatal.
        _line_with(process.stderr, "health sampler tick failed (2 in a row); retrying")
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # It once outlived 10 s on a machine at load 20: SIGABRT makes faulthandler print where every thread is.
            process.send_signal(signal.SIGABRT)
            out, err = process.communicate(timeout=10)
            pytest.fail(f"The sampler did not stop within 30 s of SIGTERM; where it was:\n{err[-4000:]}")
        assert process.returncode == 0
        assert "Health sampler stopped." in out
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.django_db
def test_a_node_that_stops_answering_is_an_outage_not_a_hang(rpc_component, settings):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    settings.PORTAL = {**settings.PORTAL, "CHAIN_RPC_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
                       "HEALTH_RPC_TIMEOUT_SECONDS": 0.5}
    chain_module._nodes.clear()
    try:
        started = time.monotonic()
        checks_run_due(force=True)
        assert time.monotonic() - started < 5
        rpc_component.refresh_from_db()
        assert rpc_component.status == "major_outage"
    finally:
        silent.close()
        chain_module._nodes.clear()
