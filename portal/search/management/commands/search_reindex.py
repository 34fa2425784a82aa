from django.core.management.base import BaseCommand

from portal.search.index import search_reindex


class Command(BaseCommand):
    help = "Rebuild the search index from the proposals, threads, comments, feedback posts and incidents."

    def handle(self, *args, **options):
        self.stdout.write(f"Search index rebuilt: {search_reindex():,} entries.")
