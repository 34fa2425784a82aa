"""Keeping the search index fresh. One function per kind turns a row into an entry; saving or deleting a proposal,
thread, comment, feedback post, incident or incident update rewrites its entry. The writes live in five apps'
services, and post_save/post_delete are the one place they all pass, so the index hooks in there (connected in
apps.ready) instead of into each service. `search_reindex()` rebuilds everything (migrate, seed_demo, bench/).

Deleted comments and draft incidents have no entry; hidden comments keep theirs, marked `hidden` (moderators still
find them); a hidden thread hides its own entry and its comments' at query time (selectors), so hiding a thread
needs no reindex.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import unescape

from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connection, transaction
from django.db.models import Func, Value
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils.html import strip_tags

from governance.models import Proposal
from portal.discussion.models import Comment, Thread
from portal.feedback.models import Post
from portal.health.models import Incident, IncidentUpdate
from portal.markdown import render_markdown

from .models import Kind, SearchEntry

CONFIG = "english"  # PostgreSQL's text search configuration: English stemming and stop words
BODY_MAX = 20_000


def _text(html: str) -> str:
    """Rendered HTML as the plain text a reader sees (tags gone, entities decoded, whitespace collapsed)."""
    return " ".join(unescape(strip_tags(html)).split())[:BODY_MAX]


def _plain(markdown_text: str) -> str:
    return _text(render_markdown(markdown_text or ""))


def proposal_entry(proposal: Proposal) -> SearchEntry:
    return SearchEntry(
        kind=Kind.PROPOSAL, object_id=proposal.pk, title=f"{proposal.label}: {proposal.title}"[:300],
        body=_plain(proposal.body), url=proposal.get_absolute_url(), created=proposal.created,
    )


def thread_entry(thread: Thread) -> SearchEntry:
    return SearchEntry(
        kind=Kind.THREAD, object_id=thread.pk, title=thread.title[:300], body=_plain(thread.body),
        url=thread.get_absolute_url(), thread_id=thread.pk, created=thread.created,
    )


def comment_entry(comment: Comment, *, thread_title: str) -> SearchEntry | None:
    if comment.is_deleted:
        return None
    text = _text(comment.html) if comment.html else _plain(comment.body)
    return SearchEntry(
        kind=Kind.COMMENT, object_id=comment.pk, title=f"Comment in “{thread_title}”"[:300], body=text,
        url=comment.get_absolute_url(), thread_id=comment.thread_id, hidden=comment.hidden, created=comment.created,
    )


def feedback_entry(post: Post) -> SearchEntry:
    return SearchEntry(
        kind=Kind.FEEDBACK, object_id=post.pk, title=post.title[:300],
        body=" ".join(filter(None, (_plain(post.body), _plain(post.answer))))[:BODY_MAX],
        url=post.get_absolute_url(), created=post.created,
    )


def incident_entry(incident: Incident) -> SearchEntry | None:
    if incident.draft:
        return None
    updates = " ".join(update.body for update in incident.updates.all())
    return SearchEntry(
        kind=Kind.INCIDENT, object_id=incident.pk, title=incident.name[:300], body=" ".join(updates.split())[:BODY_MAX],
        url=reverse("health:incident", args=[incident.code]), created=incident.started_at,
    )


def entry_write(kind: str, object_id: int, entry: SearchEntry | None) -> None:
    """Write one object's entry in one statement: an upsert (INSERT … ON CONFLICT DO UPDATE, on both databases), or a
    delete when the object has no entry any more (None). On PostgreSQL the tsvector is computed in the same insert."""
    if entry is None:
        SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()
        return
    SearchEntry.objects.bulk_create(
        _vectored([entry]), update_conflicts=True, unique_fields=["kind", "object_id"],
        update_fields=["title", "body", "url", "thread_id", "hidden", "created", "vector", "pairs"],
    )


def vector_of(title: str, body: str) -> SearchVector:
    """The tsvector of an entry being written (from its values, so it can go into the INSERT itself); titles weigh
    more than bodies in the ranking (A > B)."""
    return SearchVector(Value(title), weight="A", config=CONFIG) + SearchVector(Value(body), weight="B", config=CONFIG)


def pairs_of(vector: SearchVector) -> Func:
    """The `pairs` of an entry being written: its tsvector's side-by-side lexemes as tokens (migration 0003)."""
    return Func(Func(vector, function="search_pair_tokens"), function="array_to_tsvector",
                output_field=SearchVectorField())


def search_reindex(*, chunk: int = 5_000) -> int:
    """Rebuild the whole index from the source tables; returns how many entries it holds."""
    with transaction.atomic():
        SearchEntry.objects.all().delete()
        rows = [proposal_entry(p) for p in Proposal.objects.all()]
        rows += [thread_entry(t) for t in Thread.objects.all()]
        rows += [feedback_entry(p) for p in Post.objects.all()]
        rows += [incident_entry(i) for i in Incident.objects.filter(draft=False).prefetch_related("updates")]
        SearchEntry.objects.bulk_create(_vectored(row for row in rows if row is not None), batch_size=2000)
        titles = dict(Thread.objects.values_list("pk", "title"))
        comments = Comment.objects.filter(deleted__isnull=True).order_by("pk")
        start = 0
        while True:
            batch = list(comments.filter(pk__gt=start)[:chunk])
            if not batch:
                break
            SearchEntry.objects.bulk_create(
                _vectored(comment_entry(c, thread_title=titles.get(c.thread_id, "")) for c in batch), batch_size=2000
            )
            start = batch[-1].pk
    return SearchEntry.objects.count()


def _vectored(entries: Iterable[SearchEntry]) -> list[SearchEntry]:
    """Entries with their tsvector computed in the INSERT on PostgreSQL (an UPDATE afterwards would leave every row
    twice in the table until a vacuum)."""
    entries = list(entries)
    if connection.vendor == "postgresql":
        for entry in entries:
            entry.vector = vector_of(entry.title, entry.body)
            entry.pairs = pairs_of(vector_of(entry.title, entry.body))
    return entries


def _on_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """Rewrite the saved object's entry, in the write's own transaction (one statement; see entry_write)."""
    if raw:  # loaddata
        return
    if sender is Proposal:
        entry_write(Kind.PROPOSAL, instance.pk, proposal_entry(instance))
    elif sender is Thread:
        if update_fields is not None and not {"title", "body"} & set(update_fields):
            return  # activity, locks, pins: nothing the index holds (hiding is read at query time)
        entry_write(Kind.THREAD, instance.pk, thread_entry(instance))
        if update_fields is None or "title" in update_fields:
            _comments_retitle(instance)
    elif sender is Comment:
        if update_fields is not None and not {"body", "hidden", "deleted"} & set(update_fields):
            return
        thread = instance.thread if Comment.thread.is_cached(instance) else None
        title = thread.title if thread else Thread.objects.filter(pk=instance.thread_id).values_list("title", flat=True).first()
        entry_write(Kind.COMMENT, instance.pk, comment_entry(instance, thread_title=title or ""))
    elif sender is Post:
        entry_write(Kind.FEEDBACK, instance.pk, feedback_entry(instance))
    elif sender in (Incident, IncidentUpdate):
        _incident_after_commit(instance.pk if sender is Incident else instance.incident_id)


def _incident_after_commit(incident_id: int) -> None:
    """An incident's entry holds its updates' text, so it is written after the commit that saved them (an incident
    only ever becomes visible, draft to published, so the delay can show nothing that should be hidden)."""

    def write():
        incident = Incident.objects.filter(pk=incident_id).prefetch_related("updates").first()
        entry_write(Kind.INCIDENT, incident_id, incident_entry(incident) if incident else None)

    # Once per transaction: an incident and its new update are saved together. (Django keeps the callbacks waiting
    # for this transaction in connection.run_on_commit, as (savepoints, callback, robust).)
    if any(getattr(waiting[1], "search_incident", None) == incident_id for waiting in connection.run_on_commit):
        return
    write.search_incident = incident_id
    transaction.on_commit(write, robust=True)


def _comments_retitle(thread: Thread) -> None:
    title = f"Comment in “{thread.title}”"[:300]
    SearchEntry.objects.filter(kind=Kind.COMMENT, thread_id=thread.pk).exclude(title=title).update(title=title)


_KINDS = {Proposal: Kind.PROPOSAL, Thread: Kind.THREAD, Comment: Kind.COMMENT, Post: Kind.FEEDBACK, Incident: Kind.INCIDENT}


def _on_delete(sender, instance, **kwargs):
    if sender is IncidentUpdate:
        _incident_after_commit(instance.incident_id)
        return
    SearchEntry.objects.filter(kind=_KINDS[sender], object_id=instance.pk).delete()


def connect() -> None:
    for model in (*_KINDS, IncidentUpdate):
        post_save.connect(_on_save, sender=model, dispatch_uid=f"search-index-save-{model.__name__}")
        post_delete.connect(_on_delete, sender=model, dispatch_uid=f"search-index-delete-{model.__name__}")
