"""The demo's search index: everything seeded so far (rows made before the index existed included)."""

from portal.search.index import search_reindex


def seed(*, stdout) -> None:
    stdout.write(f"  search index: {search_reindex():,} entries\n")
