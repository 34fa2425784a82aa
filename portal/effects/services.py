"""Durable effects: what a write causes beyond its own rows (a notification, a webhook POST, an e-mail), queued in the
write's own transaction as a django-tasks task. The queue is django-tasks-db's table in the site's database, so a
saved write always has its effect queued and a rolled-back write never has; `manage.py db_worker` runs them.

The whole API:

    from portal.effects.services import durable, effect_enqueue

    @durable(max_attempts=6, first_retry_seconds=10)   # a module-level function taking JSON keyword arguments
    def mail_send(*, message_id: int) -> None:
        ...                                            # raise to fail this attempt; it is retried with backoff

    @transaction.atomic
    def something_write(...):
        message = OutgoingMail.objects.create(...)
        effect_enqueue(mail_send, key=f"mail:{message.pk}", message_id=message.pk)

What it promises:

- One effect per key: `effect_enqueue` with a key already in the ledger (`Effect`) queues nothing and returns
  False. Without a key every call is a new effect.
- Exactly once in the database: an `atomic` handler (the default) runs in one transaction with the row that marks
  its effect done, so a worker killed mid-task (or a connection dropped under it) leaves nothing behind and the
  re-run writes everything once. A handler that talks to the outside (`atomic=False`: HTTP, SMTP) runs outside any
  transaction; a crash after it sent but before the ledger recorded it sends again, so it must hand its key on (a
  webhook's `X-Portal-Delivery`, an e-mail's Message-ID) for the receiver to drop the repeat.
- Retries: an exception fails the attempt; the next attempt is a new task with `run_after` 10 s, 30 s, 90 s … later
  (`first_retry_seconds` × 3ⁿ); after `max_attempts` the effect is failed for good and logged. `on_error(effect=,
  error=, final=)`, when given, runs after every failed attempt inside the transaction that records it, so the domain
  keeps its own log (a delivery's last status code, a bouncing address).
- A worker that dies mid-task leaves its task RUNNING. `effects_sweep()` (the health sampler runs it every tick)
  queues such effects again once the task has run longer than the handler's `lease_seconds`, counting the lost run
  as an attempt; on PostgreSQL a run that still holds its row lock is alive and left alone.
- `eager=True`: right after commit the web process tries the effect itself, so a notification reaches the bell at
  once; the queued task is the backstop and finds it done. For quick database-only handlers; the setting
  PORTAL["EFFECTS_EAGER"] = False leaves every effect to the workers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskContext, TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from portal.conf import portal_settings

from .models import Effect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Durable:
    """How a handler is run: see the module docstring."""

    max_attempts: int = 6
    first_retry_seconds: float = 10
    lease_seconds: float = 60
    atomic: bool = True
    eager: bool = False
    on_error: Callable | None = None

    def retry_delay(self, attempts: int) -> timedelta:
        """10 s, 30 s, 90 s, 4.5 min, 13.5 min … after the 1st, 2nd, 3rd … failure (with the defaults)."""
        return timedelta(seconds=self.first_retry_seconds * 3 ** (attempts - 1))


def durable(*, max_attempts: int = 6, first_retry_seconds: float = 10, lease_seconds: float = 60,
            atomic: bool = True, eager: bool = False, on_error: Callable | None = None) -> Callable:
    """Mark a module-level function as an effect handler (it keeps working as a plain function)."""
    spec = Durable(max_attempts=max_attempts, first_retry_seconds=first_retry_seconds, lease_seconds=lease_seconds,
                   atomic=atomic, eager=eager, on_error=on_error)

    def mark(func: Callable) -> Callable:
        func.durable = spec
        return func

    return mark


def effect_enqueue(handler: Callable, *, key: str | None = None, run_after: datetime | None = None, **kwargs) -> bool:
    """Queue `handler(**kwargs)` as a task in the current transaction (one of its own when there is none), to run
    as soon as a worker is free or not before `run_after`. Returns False when `key` is already in the ledger
    (nothing queued). Raises ValueError for a function that is not @durable (a programming error)."""
    spec = _spec(handler)
    path = f"{handler.__module__}.{handler.__qualname__}"
    if key is None:  # a fresh key cannot clash: the caller's transaction (or one of ours) is enough
        key = f"{handler.__name__}:{uuid.uuid4().hex}"
        with nullcontext() if connection.in_atomic_block else transaction.atomic():
            _enqueue(key=key, path=path, kwargs=kwargs, run_after=run_after)
    else:
        try:
            with transaction.atomic():  # a savepoint: a key already queued undoes only this
                _enqueue(key=key, path=path, kwargs=kwargs, run_after=run_after)
        except IntegrityError:
            return False
    if spec.eager and run_after is None and portal_settings().effects_eager:
        transaction.on_commit(lambda: effect_attempt(key=key, eager=True), robust=True)
    return True


def effect_attempt(*, key: str, task_id: str | None = None, eager: bool = False) -> str:
    """Run one attempt of the effect `key` now (the task does this; so may a test). Returns what happened. A failed
    attempt is recorded and re-raised, except an eager one, which leaves the effect to its task."""
    effect = Effect.objects.filter(key=key).first()
    if effect is None or effect.state != Effect.State.PENDING:
        return "nothing to do"
    spec = _spec(import_string(effect.handler))
    try:
        if spec.atomic:
            with transaction.atomic():
                effect = _locked(key)
                if effect.state != Effect.State.PENDING:
                    return "done by another run"
                import_string(effect.handler)(**effect.kwargs)
                _finish(effect)
        else:
            import_string(effect.handler)(**effect.kwargs)
            with transaction.atomic():
                effect = _locked(key)
                if effect.state == Effect.State.PENDING:
                    _finish(effect)
    except Exception as error:
        if eager:
            log.info("effect %s: the eager attempt failed; its task will retry", key, exc_info=True)
            return "left to the task"
        _reconnect_if_broken()
        _record_failure(key=key, task_id=task_id, error=error)
        raise
    return "done"


@task(takes_context=True)
def effect_run(context: TaskContext, key: str) -> str:
    """The one django-task behind every effect: one attempt of the effect `key`."""
    return effect_attempt(key=key, task_id=context.task_result.id)


def effects_sweep(*, now: datetime | None = None, limit: int = 200) -> int:
    """Queue again the effects whose worker died: their task is RUNNING past the handler's lease, or it ended (or
    vanished) without the ledger hearing. Returns how many were queued again or failed for good."""
    now = now or timezone.now()
    swept = 0
    running = DBTaskResult.objects.running().filter(
        task_path=EFFECT_RUN_PATH, started_at__lt=now - timedelta(seconds=min_lease_seconds())
    ).order_by("started_at")[:limit]
    for stale in running:
        swept += _sweep_one(key=stale.args_kwargs["kwargs"].get("key", ""), task=stale, now=now)
    # Effects whose task ended or vanished without the ledger hearing (the worker lost its database while
    # recording); long overdue, so a queued task has had its chance.
    overdue = Effect.objects.filter(state=Effect.State.PENDING,
                                    next_attempt_at__lt=now - timedelta(seconds=min_lease_seconds()))
    overdue = list(overdue.order_by("next_attempt_at")[:limit])
    alive = set(
        DBTaskResult.objects.filter(id__in=[e.task_id for e in overdue if _is_uuid(e.task_id)],
                                    status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
        .values_list("id", flat=True)
    )
    alive = {str(task_id) for task_id in alive}
    for effect in overdue:
        if effect.task_id not in alive:
            swept += _sweep_one(key=effect.key, task=None, now=now)
    return swept


def min_lease_seconds() -> float:
    """No handler's lease is shorter than this: the sweep looks no closer than it."""
    return 30


class WorkerLost(Exception):
    """The worker running an attempt stopped before it finished (killed, or lost its database)."""


EFFECT_RUN_PATH = effect_run.module_path


def _sweep_one(*, key: str, task: DBTaskResult | None, now: datetime) -> int:
    with transaction.atomic():
        # On PostgreSQL a live atomic run holds this row's lock: skip it rather than wait.
        effect = Effect.objects.select_for_update(skip_locked=True).filter(key=key).first()
        current = effect is not None and effect.state == Effect.State.PENDING and (
            task is None or effect.task_id == str(task.id))
        if current and task is not None:
            spec = _spec(import_string(effect.handler))
            if task.started_at > now - timedelta(seconds=spec.lease_seconds):
                return 0  # still within its lease
        if task is not None and (current or effect is None or effect.state != Effect.State.PENDING
                                 or effect.task_id != str(task.id)):
            DBTaskResult.objects.filter(id=task.id, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED, finished_at=now, exception_class_path=f"{__name__}.WorkerLost",
                traceback="The worker running this task stopped before it finished; the sweep took it over.",
            )
        if not current:
            return 0
        log.warning("effect %s: its worker stopped mid-task; queueing it again", key)
        _record_failure(key=key, task_id=effect.task_id,
                        error=WorkerLost("The worker stopped before the attempt finished."), locked=effect,
                        at_once=True)
    return 1


def _record_failure(*, key: str, task_id: str | None, error: Exception, locked: Effect | None = None,
                    at_once: bool = False) -> None:
    """Count the failed attempt; queue the next one after the backoff (`at_once`: now, the lease was the wait) or
    fail the effect for good."""
    with transaction.atomic():
        effect = locked or _locked(key)
        if effect.state != Effect.State.PENDING:
            return
        if task_id is not None and effect.task_id != str(task_id):
            return  # a later task is in charge (the sweep took this one over): it retries, not us
        spec = _spec(import_string(effect.handler))
        effect.attempts += 1
        effect.last_error = f"{type(error).__name__}: {error}"[:300]
        final = effect.attempts >= spec.max_attempts
        if final:
            effect.state, effect.finished_at = Effect.State.FAILED, timezone.now()
            log.warning("effect %s failed for good after %s attempts: %s", key, effect.attempts, effect.last_error)
        else:
            effect.next_attempt_at = timezone.now() + (timedelta(0) if at_once else spec.retry_delay(effect.attempts))
            effect.task_id = effect_run.using(run_after=effect.next_attempt_at).enqueue(key=key).id
        effect.save(update_fields=["attempts", "last_error", "state", "finished_at", "next_attempt_at", "task_id"])
        if spec.on_error is not None:
            spec.on_error(effect=effect, error=error, final=final)


def _enqueue(*, key: str, path: str, kwargs: dict, run_after: datetime | None) -> None:
    run = effect_run.using(run_after=run_after) if run_after else effect_run
    result = run.enqueue(key=key)  # the task and its ledger row commit together
    Effect.objects.create(key=key, handler=path, kwargs=kwargs, task_id=result.id,
                          next_attempt_at=run_after or timezone.now())


def _finish(effect: Effect) -> None:
    effect.attempts += 1
    effect.state, effect.finished_at, effect.last_error = Effect.State.DONE, timezone.now(), ""
    effect.save(update_fields=["attempts", "state", "finished_at", "last_error"])
    # Done before a worker picked its task up (an eager run): the worker need not.
    DBTaskResult.objects.filter(id=effect.task_id, status=TaskResultStatus.READY).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=effect.finished_at, return_value="done")


def _locked(key: str) -> Effect:
    return Effect.objects.select_for_update().get(key=key)


def _spec(handler: Callable) -> Durable:
    spec = getattr(handler, "durable", None)
    if not isinstance(spec, Durable):
        raise ValueError(f"{handler!r} is not an effect handler; decorate it with @durable.")
    return spec


def _reconnect_if_broken() -> None:
    """A connection that died mid-attempt (a terminated backend, a network blip) is dropped, so recording the
    failure opens a fresh one instead of failing too."""
    if connection.in_atomic_block:
        return  # inside someone's transaction (a test): theirs to handle
    try:
        if connection.connection is not None and not connection.is_usable():
            connection.close()
    except DatabaseError:
        connection.close()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
