"""Search: one selector over the site's index, PostgreSQL full-text search in the services mode and SQLite FTS5 in
the embedded default. Both rank (ts_rank / bm25, titles above bodies) and highlight (ts_headline / snippet) the
words found; neither ever returns a hidden comment or a hidden thread (or its comments) to someone who may not see
them.

What a person types is never handed to either engine as syntax: it is cut into words and "quoted phrases" (with
`-word` to leave a word out, and `or` between words on PostgreSQL), which each engine gets in a form it cannot
misread, so operators, quotes, brackets and any unicode are just text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.html import escape

from portal.discussion.models import Thread
from portal.discussion.selectors import Viewer
from portal.errors import Refusal
from portal.parsing import page_slice

from .index import CONFIG
from .models import Kind, SearchEntry

QUERY_MAX_LENGTH = 200
MAX_TERMS = 12
PAGE_SIZE = 20
# Markers the engines put around a found word; the text is HTML-escaped afterwards and the markers become <mark>.
_START, _STOP = "\x02", "\x03"
_TERM = re.compile(r'(-?)"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a quoted phrase
    exclude: bool = False

    @property
    def phrase(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class SearchHit:
    kind: str
    title: str
    url: str
    snippet: str  # HTML: escaped text, the words found in <mark>


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: list[SearchHit]
    count: int
    counts: dict[str, int]  # per kind, for every kind (the tabs)
    searched: bool  # False when the query held no word to look for


def query_parse(raw: object) -> str:
    """The query text from outside: a string, stripped, at most QUERY_MAX_LENGTH characters; Refusal otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise Refusal("Type what you are looking for, like ?q=reserve factor.")
    if not isinstance(raw, str):
        raise Refusal("The search must be text.")
    text = raw.strip()
    if len(text) > QUERY_MAX_LENGTH:
        raise Refusal(f"The search is too long: {len(text):,} characters, at most {QUERY_MAX_LENGTH} are allowed.")
    return text


def terms_of(text: str) -> list[Term]:
    """Words and quoted phrases, lower-case, with `-` marking one to leave out; punctuation is dropped."""
    terms = []
    for match in _TERM.finditer(text):
        negated, quoted, bare = match.groups()
        if quoted is not None:
            words = tuple(w.lower() for w in _WORD.findall(quoted))
            exclude = bool(negated)
        else:
            exclude = bare.startswith("-") and len(bare) > 1
            words = tuple(w.lower() for w in _WORD.findall(bare))
        if words:
            terms.append(Term(words=words, exclude=exclude))
    return terms[:MAX_TERMS]


def _visible(viewer: Viewer) -> Q:
    if viewer.moderator:
        return Q()
    hidden_threads = Thread.objects.filter(hidden=True).values("pk")
    return Q(hidden=False) & (Q(thread_id__isnull=True) | ~Q(thread_id__in=hidden_threads))


def _postgresql(terms: list[Term]) -> tuple[QuerySet, SearchQuery]:
    # Each term as websearch text: "a phrase" quoted, a left-out term prefixed with -; a bare "or" between words
    # keeps its websearch meaning. The words carry no other operator characters (they are \w only).
    parts = []
    for term in terms:
        text = f'"{term.phrase}"' if len(term.words) > 1 else term.phrase
        parts.append(f"-{text}" if term.exclude else text)
    query = SearchQuery(" ".join(parts), search_type="websearch", config=CONFIG)
    found = SearchEntry.objects.filter(vector=query).annotate(rank=SearchRank(F("vector"), query))
    return found, query


def _fts5_expression(terms: list[Term]) -> str | None:
    """An FTS5 MATCH expression: every wanted term (a "quoted" string, so nothing is an operator) AND-ed, the left-out
    ones after NOT; None when nothing is wanted (FTS5 cannot start with NOT)."""
    wanted = [f'"{term.phrase}"' for term in terms if not term.exclude and term.phrase != "or"]
    if not wanted:
        return None
    unwanted = [f'"{term.phrase}"' for term in terms if term.exclude]
    return " AND ".join(wanted) + "".join(f" NOT {phrase}" for phrase in unwanted)


def _sqlite(expression: str) -> QuerySet:
    return SearchEntry.objects.extra(
        tables=["search_fts"],
        where=["search_fts.rowid = search_searchentry.id", "search_fts MATCH %s"],
        params=[expression],
        select={
            "rank": "-bm25(search_fts, 10.0, 1.0)",
            "snippet": f"snippet(search_fts, -1, '{_START}', '{_STOP}', '…', 24)",
        },
        select_params=(),
    )


def _highlighted(text: str) -> str:
    return escape(text or "").replace(_START, "<mark>").replace(_STOP, "</mark>")


def search(*, query: str, viewer: Viewer, kind: str | None = None, page: int = 1) -> SearchResults:
    """One page of what `viewer` may see that matches `query` (from query_parse), best first, optionally of one
    `kind`; with the number of matches per kind. A query without a word to look for finds nothing."""
    terms = terms_of(query)
    empty = SearchResults(query=query, hits=[], count=0, counts=dict.fromkeys(Kind.values, 0), searched=False)
    if not any(not term.exclude for term in terms):
        return empty
    if connection.vendor == "postgresql":
        found, ts_query = _postgresql(terms)
    else:
        expression = _fts5_expression(terms)
        if expression is None:
            return empty
        found = _sqlite(expression)
    found = found.filter(_visible(viewer))
    counts = dict.fromkeys(Kind.values, 0)
    counts.update(dict(found.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")))
    if kind:
        found = found.filter(kind=kind)
    rows = found.order_by("-rank", "-created", "-id")
    if connection.vendor == "postgresql":
        rows = rows.annotate(
            snippet=SearchHeadline(
                Coalesce(NullIf("body", Value("")), "title"), ts_query, config=CONFIG, start_sel=_START,
                stop_sel=_STOP, max_words=35, min_words=15,
            )
        )
    shown = rows.values("kind", "title", "url", "snippet")[page_slice(page=page, per_page=PAGE_SIZE)]
    hits = [SearchHit(kind=r["kind"], title=r["title"], url=r["url"], snippet=_highlighted(r["snippet"])) for r in shown]
    total = counts[kind] if kind else sum(counts.values())
    return SearchResults(query=query, hits=hits, count=total, counts=counts, searched=True)
