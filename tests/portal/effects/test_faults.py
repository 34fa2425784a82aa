"""Fault tests with a real `manage.py db_worker` subprocess on the test database: killed with SIGKILL mid-task,
its database connection dropped mid-task. After a restart and the sweep, every effect is delivered exactly once.

Each test starts a worker or two (Django start-up, ~1.5 s each): that is the reason they take a few seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.effects.models import Effect
from portal.effects.services import effects_sweep
from portal.health import services as health_services
from portal.health.models import Webhook, WebhookDelivery
from portal.notifications.models import Notification
from portal.notifications.services import notify_later
from tests.conftest import NO_CHAIN_URL
from tests.process_output import ProcessOutput
from tests.webhook_receiver import verify

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.django_db(transaction=True)
postgres_only = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":", 1)[0] not in {"postgres", "postgresql"},
    reason="pauses the worker mid-task on a PostgreSQL row lock (services run)",
)
LEASE_PASSED = timedelta(seconds=61)  # past the handlers' 60 s lease: the sweep may take a RUNNING task over


def _database_url() -> str:
    """The test database (pytest-django renamed it) as a URL a worker process understands."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """One `manage.py db_worker` process, polling every 50 ms. It logs each task it starts and finishes ("Task id=…
    state=RUNNING", then SUCCESSFUL or FAILED), and with `announce_queries` each SQL statement it is about to send:
    a test waits for those lines. Its PostgreSQL pool holds one connection, named by PGAPPNAME, so a test can find
    the backend its task runs on."""

    def __init__(self, log_path: Path, *, name: str):
        self.log_path = log_path
        self.name = name
        self.process: subprocess.Popen | None = None
        self.output: ProcessOutput | None = None

    def start(self, *, announce_queries: bool = False) -> None:
        env = {**os.environ, "DEBUG": "1", "DATABASE_URL": _database_url(), "CHAIN_RPC_URL": NO_CHAIN_URL,
               "PGAPPNAME": self.name, "DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": "1", "PYTHONUNBUFFERED": "1"}
        command = ["-m", "tests.portal.effects.announcing_worker"] if announce_queries else ["manage.py", "db_worker"]
        self.process = subprocess.Popen(
            [sys.executable, *command, "--no-reload", "--interval", "0.05", "--no-startup-delay"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.output = ProcessOutput(self.process, log_path=self.log_path)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and not self.output.ended

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.output.tail()


@pytest.fixture(autouse=True)
def _workers_only(settings):
    """Nothing is tried in this process after commit: the worker subprocess does all of it."""
    settings.PORTAL = {**settings.PORTAL, "EFFECTS_EAGER": False}


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(*, announce_queries: bool = False) -> Worker:
        worker = Worker(tmp_path / f"worker-{len(started)}.log", name=f"portal-fault-worker-{len(started)}")
        worker.start(announce_queries=announce_queries)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition, *, what: str, worker: Worker, wake: threading.Event | None = None, timeout: float = 120):
    """Wait for the worker process to do something: `condition()` is checked at each line the worker logs (a task
    started or finished) and when `wake` is set. Generous: a worker's Django start-up alone took over 30 s on this
    machine when it was shared by several test runs."""
    if wake is not None:
        worker.output.wake_on(wake, timeout=timeout)
    result = worker.output.wait_for(condition, timeout=timeout)
    if result:
        return result
    if not worker.alive():
        raise AssertionError(f"the worker exited before {what}: {worker.log()}")
    raise AssertionError(f"{what} did not happen within {timeout:g} s: {worker.log()}")


def _locking_the_ledger_row(worker: Worker, key: str) -> bool:
    """Whether the worker (started with `announce_queries`) is about to lock the effect's ledger row, inside its
    attempt: a test holding that lock has it waiting there."""
    return any(line.startswith("about to run:") and "effects_effect" in line and "FOR UPDATE" in line
               and repr(key) in line for line in worker.output.lines)


def test_a_worker_killed_mid_delivery_sends_the_webhook_once_after_restart_and_sweep(receiver, workers):
    hook = Webhook.objects.create(url=receiver.url)
    with transaction.atomic():
        health_services.webhooks_enqueue(event="component.updated", payload={"component": {"id": "rpc"}})
    receiver.hold = threading.Event()  # the receiver holds the first POST open …
    first = workers()
    wait_for(receiver.arrived.is_set, what="the first POST", worker=first, wake=receiver.arrived)
    first.kill()  # … and the worker dies before it hears the answer
    receiver.hold.set()
    receiver.hold = None
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending"
    stuck = Effect.objects.get(handler__endswith="webhook_deliver")
    assert DBTaskResult.objects.get(id=stuck.task_id).status == "RUNNING"  # left behind by the dead worker

    assert effects_sweep(now=timezone.now() + LEASE_PASSED) == 1
    second = workers()
    wait_for(lambda: Effect.objects.get(handler__endswith="webhook_deliver").state == "done", what="the delivery",
             worker=second)

    assert WebhookDelivery.objects.get().state == "delivered"
    effect = Effect.objects.get(handler__endswith="webhook_deliver")
    assert (effect.state, effect.attempts) == ("done", 2)  # the lost attempt counts
    assert Effect.objects.get(handler__endswith="webhook_fan_out").state == "done"
    assert WebhookDelivery.objects.count() == 1
    # The receiver got the POST the dead worker sent and the retry: the same signed body under the same delivery
    # id, so a receiver that drops repeats acts once.
    assert len(receiver.requests) == 2
    (h1, b1), (h2, b2) = receiver.requests
    assert b1 == b2 and h1["X-Portal-Delivery"] == h2["X-Portal-Delivery"] == str(delivery.pk)
    assert verify(hook.secret, h2, b2)
    assert list(receiver.events()) == [str(delivery.pk)]
    assert json.loads(b2)["component"] == {"id": "rpc"}


def _pause_on_the_ledger_row(key: str):
    """Another connection locks the effect's ledger row, so a worker's attempt waits inside its task."""
    import psycopg

    db = connection.settings_dict
    holder = psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                             password=db.get("PASSWORD") or None, dbname=db["NAME"])
    holder.execute("SELECT id FROM effects_effect WHERE key = %s FOR UPDATE", [key])
    return holder


def _wait_for_the_ledger_row(holder, key: str, *, what: str, timeout: float = 120) -> None:
    """Lock the ledger row again and let it go: PostgreSQL grants the lock once every other transaction holding it
    (a dead worker's backend finishing its attempt) has ended."""
    import psycopg

    holder.execute(f"SET LOCAL lock_timeout = '{int(timeout * 1000)}ms'")
    try:
        holder.execute("SELECT id FROM effects_effect WHERE key = %s FOR UPDATE", [key])
    except psycopg.errors.LockNotAvailable:
        raise AssertionError(f"{what} did not happen within {timeout:g} s: the ledger row stayed locked") from None
    finally:
        holder.rollback()


def _worker_backend(holder, worker: Worker) -> int:
    holder.execute("SELECT pg_stat_clear_snapshot()")  # a transaction sees one snapshot of the activity otherwise
    (pid,) = holder.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
        [worker.name]).fetchone()
    return pid


@postgres_only
def test_a_worker_killed_mid_task_delivers_the_notification_once_after_restart_and_sweep(make_user, workers):
    alice, bob = make_user(display_name="alice"), make_user(display_name="bob")
    with transaction.atomic():
        notify_later(recipients=[alice, bob], verb="comment_reply", text="Bob replied", url="/", key="reply:7")
    holder = _pause_on_the_ledger_row("notify:reply:7")
    try:
        first = workers(announce_queries=True)
        wait_for(lambda: _locking_the_ledger_row(first, "notify:reply:7"), what="the worker locking the ledger row",
                 worker=first)
        assert DBTaskResult.objects.get().status == "RUNNING"
        first.kill()
        holder.rollback()  # the orphaned backend finds its client gone and rolls its attempt back
        _wait_for_the_ledger_row(holder, "notify:reply:7", what="the dead worker's backend ending its transaction")
    finally:
        holder.close()
    assert not Notification.objects.exists()

    assert effects_sweep(now=timezone.now() + LEASE_PASSED) == 1
    second = workers()
    wait_for(lambda: Effect.objects.get().state == "done", what="the notification", worker=second)
    assert sorted(Notification.objects.values_list("recipient__display_name", flat=True)) == ["alice", "bob"]
    assert Effect.objects.get().attempts == 2
    assert effects_sweep(now=timezone.now() + LEASE_PASSED) == 0  # nothing left behind


@postgres_only
def test_a_connection_dropped_mid_task_is_retried_and_delivers_once(make_user, workers):
    alice = make_user(display_name="alice")
    with transaction.atomic():
        notify_later(recipients=[alice], verb="comment_reply", text="Carol replied", url="/", key="reply:8")
    holder = _pause_on_the_ledger_row("notify:reply:8")
    try:
        worker = workers(announce_queries=True)
        wait_for(lambda: _locking_the_ledger_row(worker, "notify:reply:8"), what="the worker locking the ledger row",
                 worker=worker)
        # Its database connection drops mid-task.
        holder.execute("SELECT pg_terminate_backend(%s)", [_worker_backend(holder, worker)])
    finally:
        holder.rollback()
        holder.close()
    effect = wait_for(lambda: Effect.objects.filter(attempts=1).first(), what="the failed attempt", worker=worker)
    assert effect.state == "pending" and "OperationalError" in effect.last_error
    assert not Notification.objects.exists()
    # The retry waits for its backoff (10 s); let that time pass for the worker.
    DBTaskResult.objects.filter(id=effect.task_id).update(run_after=timezone.now())
    wait_for(lambda: Effect.objects.get().state == "done", what="the retry", worker=worker)
    assert Notification.objects.filter(recipient=alice).count() == 1
    assert worker.alive()  # the worker survived the drop: no restart was needed
