"""Demo content for `make run`: every capability shows something. Idempotent: a second run changes nothing."""

from django.core.management.base import BaseCommand

from governance import demo as governance_demo
from governance import demo_chain
from portal.accounts import demo as accounts_demo
from portal.discussion import demo as discussion_demo
from portal.feedback import demo as feedback_demo
from portal.health import demo as health_demo
from portal.people import demo as people_demo
from portal.search import demo as search_demo


class Command(BaseCommand):
    help = "Deploy the demo contracts on the dev chain and create demo content (idempotent)."

    def handle(self, *args, **options):
        # Order matters: contracts and accounts first, then what refers to them.
        for seed in (
            demo_chain.seed_chain,
            accounts_demo.seed,
            discussion_demo.seed,
            governance_demo.seed,
            discussion_demo.seed_proposal_threads,
            health_demo.seed,
            feedback_demo.seed,
            people_demo.seed,
            search_demo.seed,
        ):
            seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo content is ready."))
