"""One search index for the whole site: a row per proposal, thread, comment, feedback post and published incident,
kept fresh by portal.search.index. PostgreSQL searches `vector` (a stored tsvector, GIN-indexed); SQLite searches the
FTS5 table `search_fts`, which triggers keep in step with this table (both made by migration 0001 for their
database only)."""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone


class Kind(models.TextChoices):
    PROPOSAL = "proposal", "Proposals"
    THREAD = "thread", "Threads"
    COMMENT = "comment", "Comments"
    FEEDBACK = "feedback", "Feedback"
    INCIDENT = "incident", "Incidents"


class SearchEntry(models.Model):
    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True, help_text="Plain text, markdown already rendered and stripped.")
    url = models.CharField(max_length=300)
    # The discussion thread a thread or comment belongs to: a hidden thread hides its entries at query time.
    thread_id = models.PositiveBigIntegerField(null=True, blank=True)
    hidden = models.BooleanField(default=False, help_text="A comment a moderator hid: moderators only.")
    created = models.DateTimeField(default=timezone.now)
    vector = SearchVectorField(null=True, editable=False)  # PostgreSQL only; NULL on SQLite
    # PostgreSQL only: a token per two lexemes side by side in `vector`, for phrases (migration 0003, index.pairs_of)
    pairs = SearchVectorField(null=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_one_entry_per_object")]
        indexes = [
            models.Index(fields=["thread_id"], name="search_entry_thread"),
            # a kind's matches newest first: a common word's newest matches without reading all of them (selectors)
            models.Index(fields=["kind", "created", "id"], name="search_entry_kind_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}: {self.title}"
