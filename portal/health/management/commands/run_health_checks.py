"""`manage.py run_health_checks [--once]`: the health sampler (started by `make run`)."""

from django.core.management.base import BaseCommand

from portal.health.sampler import Sampler
from portal.health.services import samples_roll_up


class Command(BaseCommand):
    help = "Run the status page's health checks on their intervals (or all of them once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every check once, roll up, sweep lost effects, exit.")
        parser.add_argument("--tick", type=float, default=1.0, help="Seconds between scheduler ticks (default 1).")

    def handle(self, *args, once: bool = False, tick: float = 1.0, **options):
        sampler = Sampler(tick_seconds=tick, stdout=self.stdout)
        if once:
            samples = sampler.run_once()
            samples_roll_up()
            failed = sum(1 for s in samples if s.value is None)
            self.stdout.write(f"Ran {len(samples)} checks; {failed} could not run.")
            return
        sampler.install_signal_handlers()
        self.stdout.write("Health sampler running; SIGTERM or Ctrl-C stops it.")
        sampler.run_forever()
        self.stdout.write("Health sampler stopped.")
