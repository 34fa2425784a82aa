"""portal.effects: queued with the write, once per key, retried with backoff, failed for good, swept when lost."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.effects.models import Effect
from portal.effects.services import WorkerLost, durable, effect_attempt, effect_enqueue, effects_sweep
from portal.notifications.models import Notification
from portal.notifications.services import notify, notify_later

pytestmark = pytest.mark.django_db

FAILURES: list[dict] = []


@durable(max_attempts=3, first_retry_seconds=10)
def flaky_notify(*, user_id: int, fail_times: int) -> None:
    """Fails its first `fail_times` attempts (counted by the ledger), then notifies."""
    if Effect.objects.get(key=f"flaky:{user_id}").attempts < fail_times:
        raise RuntimeError("the receiver is down")
    notify(recipients=[_user(user_id)], verb="comment_reply", text="at last", url="/",
           key=f"flaky:{user_id}")


def _user(user_id):
    from portal.accounts.models import User

    return User.objects.get(pk=user_id)


def _record_failure(*, effect, error, final):
    FAILURES.append({"key": effect.key, "error": str(error), "final": final, "attempts": effect.attempts})


@durable(max_attempts=2, first_retry_seconds=10, on_error=_record_failure)
def always_fails(*, reason: str) -> None:
    raise RuntimeError(reason)


def not_durable(**kwargs):
    pass


def test_a_rolled_back_write_queues_nothing(make_user):
    alice = make_user(display_name="alice")
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_later(recipients=[alice], verb="comment_reply", text="hi", url="/")
        raise RuntimeError("the write failed")
    assert not Effect.objects.exists() and not DBTaskResult.objects.exists()


def test_a_committed_write_has_its_effect_queued_and_delivered_once(make_user, run_effects):
    alice = make_user(display_name="alice")
    with transaction.atomic():
        assert notify_later(recipients=[alice], verb="comment_reply", text="hi", url="/", key="reply:1")
        assert not notify_later(recipients=[alice], verb="comment_reply", text="hi", url="/", key="reply:1")
    assert (Effect.objects.count(), DBTaskResult.objects.count()) == (1, 1)
    assert not Notification.objects.exists()  # queued, not yet run (no worker in this test until now)
    assert run_effects() == 1
    effect = Effect.objects.get()
    assert (effect.state, effect.attempts) == ("done", 1)
    assert Notification.objects.get().text == "hi"
    # The same task running again (a re-run after a crash) finds the ledger done and writes nothing.
    assert effect_attempt(key=effect.key) == "nothing to do"
    assert Notification.objects.count() == 1


def test_an_eager_effect_runs_after_commit_and_its_task_is_settled(make_user, django_capture_on_commit_callbacks,
                                                                    run_effects):
    alice = make_user(display_name="alice")
    with django_capture_on_commit_callbacks(execute=True):
        notify_later(recipients=[alice], verb="comment_reply", text="now", url="/")
    assert Notification.objects.filter(recipient=alice).count() == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert run_effects() == 0


def test_failures_are_retried_with_backoff_then_delivered(make_user, run_effects):
    alice = make_user(display_name="alice")
    effect_enqueue(flaky_notify, key=f"flaky:{alice.pk}", user_id=alice.pk, fail_times=2)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert run_effects() == 1
    effect = Effect.objects.get()
    assert (effect.state, effect.attempts, effect.last_error) == ("pending", 1, "RuntimeError: the receiver is down")
    assert effect.next_attempt_at == start + timedelta(seconds=10)
    assert DBTaskResult.objects.filter(status="FAILED").count() == 1  # the attempt's traceback, for the tasks admin
    with time_machine.travel(start + timedelta(seconds=9), tick=False):
        assert run_effects() == 0  # not before its time
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        assert run_effects() == 1
    effect.refresh_from_db()
    assert (effect.attempts, effect.next_attempt_at) == (2, start + timedelta(seconds=10 + 30))
    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        assert run_effects() == 1
    effect.refresh_from_db()
    assert (effect.state, effect.attempts) == ("done", 3)
    assert Notification.objects.filter(recipient=alice).count() == 1


def test_an_effect_fails_for_good_after_its_last_attempt(run_effects):
    FAILURES.clear()
    effect_enqueue(always_fails, key="doomed", reason="HTTP 500")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        run_effects()
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        run_effects()
    with time_machine.travel(start + timedelta(days=1), tick=False):
        assert run_effects() == 0  # nothing left to try
    effect = Effect.objects.get()
    assert (effect.state, effect.attempts, effect.last_error) == ("failed", 2, "RuntimeError: HTTP 500")
    assert FAILURES == [{"key": "doomed", "error": "HTTP 500", "final": False, "attempts": 1},
                        {"key": "doomed", "error": "HTTP 500", "final": True, "attempts": 2}]


def test_the_sweep_requeues_a_task_its_worker_left_running(make_user, run_effects):
    alice = make_user(display_name="alice")
    notify_later(recipients=[alice], verb="comment_reply", text="lost once", url="/", key="lost")
    task = DBTaskResult.objects.get()
    task.claim("a-worker-that-died")  # RUNNING, and then nothing: the worker was killed
    assert effects_sweep() == 0  # within its lease it may still be running
    assert effects_sweep(now=timezone.now() + timedelta(seconds=61)) == 1
    task.refresh_from_db()
    assert task.status == "FAILED" and task.exception_class_path.endswith(WorkerLost.__name__)
    effect = Effect.objects.get()
    assert (effect.state, effect.attempts) == ("pending", 1) and effect.task_id != str(task.id)
    assert run_effects() == 1
    assert Notification.objects.filter(recipient=alice).count() == 1
    assert Effect.objects.get().state == "done"


def test_the_sweep_requeues_an_effect_whose_task_vanished(make_user, run_effects):
    alice = make_user(display_name="alice")
    notify_later(recipients=[alice], verb="comment_reply", text="orphan", url="/", key="orphan")
    DBTaskResult.objects.all().delete()
    assert effects_sweep(now=timezone.now() + timedelta(minutes=5)) == 1
    assert run_effects() == 1
    assert Notification.objects.filter(recipient=alice).count() == 1


def test_only_durable_functions_can_be_queued():
    with pytest.raises(ValueError, match="decorate it with @durable"):
        effect_enqueue(not_durable)
    assert not Effect.objects.exists()
