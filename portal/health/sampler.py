"""The sampler's loop (`manage.py run_health_checks`): every tick it moves maintenance windows on, runs the checks
that are due, sweeps the effects a dead task worker left behind and records proposals that closed; now and then it rolls samples up. Every write
is a health service (portal.health.services) or governance's; this module only keeps time."""

from __future__ import annotations

import logging
import signal
import threading

from django.db import close_old_connections
from django.utils import timezone

from governance.services import proposals_close_due, proposals_remind_closing, risk_changes_check_due
from portal.effects.services import effects_sweep
from portal.lending.services import positions_tick
from portal.notifications.digests import digests_due

from .models import Sample
from .services import checks_run_due, maintenances_advance, samples_roll_up

log = logging.getLogger(__name__)


class Sampler:
    """The long-running loop of `run_health_checks`: one tick a second, stops cleanly on SIGTERM / SIGINT.

    Nothing it meets stops it: an unreachable chain is an outage sample, a database error is logged and retried.
    """

    def __init__(self, *, tick_seconds: float = 1.0, housekeeping_seconds: float = 300.0, stdout=None):
        self.tick_seconds = tick_seconds
        self.housekeeping_seconds = housekeeping_seconds
        self.stopping = threading.Event()
        self.stdout = stdout

    def stop(self, *_args) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def tick(self, *, force: bool = False) -> list[Sample]:
        """One round: maintenance first, so the components the checks settle know whether a window is open."""
        maintenances_advance()
        samples = checks_run_due(force=force)
        effects_sweep()  # effects a killed task worker left RUNNING are queued again (the workers send webhooks)
        # The one background process also records proposals that closed by the clock, so their voters are notified
        # promptly (the state itself never waits for this).
        proposals_close_due()
        risk_changes_check_due()  # executed risk proposals: does the pool now have the voted value?
        positions_tick(force=force)  # watched loans: alerts and liquidations (portal.lending)
        proposals_remind_closing()  # "voting closes within 24 hours", once per proposal
        digests_due()  # claims the day's (and Monday the week's) digests and enqueues their building, once
        return samples

    def run_once(self, *, force: bool = True) -> list[Sample]:
        return self.tick(force=force)

    def run_forever(self) -> None:
        last_housekeeping = None
        failures = 0
        while not self.stopping.is_set():
            try:
                close_old_connections()
                self.tick()
                now = timezone.now()
                if last_housekeeping is None or (now - last_housekeeping).total_seconds() >= self.housekeeping_seconds:
                    samples_roll_up(now=now)
                    last_housekeeping = now
                failures = 0
            except Exception:
                failures += 1
                log.exception("health sampler tick failed (%s in a row); retrying", failures)
                close_old_connections()
            self.stopping.wait(min(self.tick_seconds * (2 ** min(failures, 5)), 30))
