"""Search: one selector over the site's index, PostgreSQL full-text search in the services mode and SQLite FTS5 in
the embedded default. Both rank (ts_rank / bm25, titles above bodies) and highlight (ts_headline / snippet) the
words found; neither ever returns a hidden comment or a hidden thread (or its comments) to someone who may not see
them.

What a person types is never handed to either engine as syntax: it is cut into words and "quoted phrases" (with
`-word` to leave a word out, and `or` between words on PostgreSQL), which each engine gets in a form it cannot
misread, so operators, quotes, brackets and any unicode are just text.

On PostgreSQL a common word matches tens of thousands of entries, and ranking or counting each one costs
microseconds, so the work is bounded: per kind, only the newest RANK_WINDOW matches are ranked (older ones follow
them, newest first), and the page counts at most COUNT_CAP per kind ("1,000+"). A query with fewer matches than that
is ranked and counted in full, exactly as before. The API's count stays exact (CONTRACT), so it asks for
`exact_count`; a phrase is counted exactly anyway, since every candidate is re-read for word positions. SQLite ranks
and counts every match (FTS5 measured faster that way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import Count, Q, QuerySet, Value
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
COUNT_CAP = 1_000  # per kind, the page counts this many matches at most; more shows as "1,000+"
RANK_WINDOW = 300  # per kind, the newest matches that are ranked (older ones follow, newest first)
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
    capped: frozenset[str] = frozenset()  # kinds with more than COUNT_CAP matches (their count says COUNT_CAP)
    kind: str | None = None

    @property
    def more(self) -> bool:
        """The count is a floor: there are more matches than it says."""
        return self.kind in self.capped if self.kind else bool(self.capped)

    @property
    def count_text(self) -> str:
        return f"{self.count:,}+" if self.more else f"{self.count:,}"

    @property
    def tabs(self) -> list[tuple[str, str]]:
        """(kind, its count as text) for each kind with a match, in Kind's order."""
        return [(k, f"{n:,}+" if k in self.capped else f"{n:,}") for k, n in self.counts.items() if n]


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


def _websearch(terms: list[Term]) -> str:
    """Each term as websearch text: "a phrase" quoted, a left-out term prefixed with -; a bare "or" between words
    keeps its websearch meaning. The words carry no other operator characters (they are word characters only)."""
    parts = []
    for term in terms:
        text = f'"{term.phrase}"' if len(term.words) > 1 else term.phrase
        parts.append(f"-{text}" if term.exclude else text)
    return " ".join(parts)


def _postgresql(text: str) -> tuple[QuerySet, SearchQuery]:
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    return SearchEntry.objects.filter(vector=query), query


def pair_tokens(phrases: list[str]) -> list[str]:
    """The `pairs` tokens (migration 0003) of every two lexemes side by side in each phrase, as PostgreSQL parses it:
    an entry matching the phrases holds them all. Hex digits only, so they are safe tsquery text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT unnest(search_pair_tokens(to_tsvector(%s::regconfig, phrase))) "
            "FROM unnest(%s::text[]) AS phrase", [CONFIG, phrases],
        )
        tokens = sorted(token for (token,) in cursor.fetchall())
    if not all(re.fullmatch(r"[0-9a-f]{16}", token) for token in tokens):
        raise ValueError("search_pair_tokens returned something other than 16 hex digits")
    return tokens


def _with_pairs(found: QuerySet, phrases: list[str]) -> QuerySet:
    """`found` narrowed to the entries holding every word pair of the phrases (the phrase match itself still
    decides: a pair can stand elsewhere in an entry, and two pairs apart). A phrase with no two lexemes side by side
    ("reserve of factor": the stop word leaves a gap) adds nothing."""
    tokens = pair_tokens(phrases)
    if not tokens:
        return found
    return found.extra(where=["search_searchentry.pairs @@ %s::tsquery"], params=[" & ".join(tokens)])


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


def _newest_sql(found: QuerySet, *, every: bool) -> tuple[str, list]:
    """SQL for (id, kind, created) of each kind's newest COUNT_CAP + 1 matches (a common word's are found by walking
    the kind and created index newest first, so the scan stops there; a rare word's through the full-text index),
    or of `every` match."""
    if every:
        return found.order_by().values_list("id", "kind", "created").query.sql_with_params()
    parts, params = [], []
    for number, kind in enumerate(Kind.values):
        newest = found.filter(kind=kind).order_by("-created", "-id").values_list("id", "kind", "created")
        sql, kind_params = newest[: COUNT_CAP + 1].query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS kind{number}")
        params += kind_params
    return " UNION ALL ".join(parts), params


def _ranked_sql(ts_query_text: str) -> tuple[str, list]:
    """(id, created, rank) of the `window_` rows by ts_rank, higher better (one primary-key read a row)."""
    return (
        "SELECT w.id, w.created, (SELECT ts_rank(e.vector, websearch_to_tsquery(%s::regconfig, %s)) "
        "FROM search_searchentry e WHERE e.id = w.id) AS rank FROM window_ w",
        [CONFIG, ts_query_text],
    )


# One statement: each kind's newest matches numbered (`m`), the newest RANK_WINDOW of each (`window_`) ranked and one
# page of them; and the count per kind, from `m` (so at most COUNT_CAP + 1) or, for an exact count, from every match.
# Rows with a kind are counts, the others the page's entry ids with their position.
_STATEMENT = """
WITH m AS MATERIALIZED (
  SELECT id, kind, created, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY created DESC, id DESC) AS n
  FROM ({newest}) AS newest),
window_ AS MATERIALIZED (SELECT id, created FROM m WHERE n <= %s{kind_filter}),
ranked AS ({ranked})
SELECT kind, n, 0 AS position FROM ({counts}) AS counts
UNION ALL
SELECT NULL, id, ROW_NUMBER() OVER (ORDER BY rank DESC, created DESC, id DESC)
FROM (SELECT * FROM ranked ORDER BY rank DESC, created DESC, id DESC LIMIT %s OFFSET %s) AS shown
"""


def search(*, query: str, viewer: Viewer, kind: str | None = None, page: int = 1,
           exact_count: bool = False) -> SearchResults:
    """One page of what `viewer` may see that matches `query` (from query_parse), best first, optionally of one
    `kind`; with the number of matches per kind, exact with `exact_count`, otherwise at most COUNT_CAP per kind
    (those above are in `capped`). The order: each kind's newest RANK_WINDOW matches by rank, then the others newest
    first. A query without a word to look for finds nothing."""
    terms = terms_of(query)
    empty = SearchResults(query=query, hits=[], count=0, counts=dict.fromkeys(Kind.values, 0), searched=False)
    if not any(not term.exclude for term in terms):
        return empty
    if connection.vendor != "postgresql":
        expression = _fts5_expression(terms)
        if expression is None:
            return empty
        return _sqlite_search(query=query, expression=expression, viewer=viewer, kind=kind, page=page)
    ts_query_text = _websearch(terms)
    found, ts_query = _postgresql(ts_query_text)
    found = found.filter(_visible(viewer))
    # A phrase's matches are read in one pass and counted exactly: the `pairs` index finds the entries holding every
    # two of its words side by side, and only those have their word positions re-read.
    every = any(len(term.words) > 1 and not term.exclude for term in terms)
    if every:
        found = _with_pairs(found, [term.phrase for term in terms if len(term.words) > 1 and not term.exclude])
    newest_sql, newest_params = _newest_sql(found, every=every)
    ranked_sql, ranked_params = _ranked_sql(ts_query_text)
    exact_count = exact_count or every
    if exact_count and not every:
        counts_sql, counts_params = found.order_by().values("kind").annotate(n=Count("id")).values_list(
            "kind", "n").query.sql_with_params()
    else:
        counts_sql, counts_params = "SELECT kind, COUNT(*) AS n FROM m GROUP BY kind", []
    kind_filter, kind_params = (" AND kind = %s", [kind]) if kind else ("", [])
    shown = page_slice(page=page, per_page=PAGE_SIZE)
    sql = _STATEMENT.format(newest=newest_sql, kind_filter=kind_filter, ranked=ranked_sql, counts=counts_sql)
    params = [*newest_params, RANK_WINDOW, *kind_params, *ranked_params, *counts_params,
              PAGE_SIZE, shown.start]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts = dict.fromkeys(Kind.values, 0)
    counts.update({row_kind: n for row_kind, n, _ in rows if row_kind is not None})
    ids = [entry_id for row_kind, entry_id, _ in sorted(rows, key=lambda row: row[2]) if row_kind is None]
    capped = frozenset(k for k, n in counts.items() if not exact_count and n > COUNT_CAP)
    counts.update(dict.fromkeys(capped, COUNT_CAP))
    total = counts[kind] if kind else sum(counts.values())
    ranked_total = sum(min(n, RANK_WINDOW) for k, n in counts.items() if kind in (None, k))
    results = SearchResults(query=query, hits=[], count=total, counts=counts, searched=True, capped=capped, kind=kind)
    if len(ids) < PAGE_SIZE and (shown.start + len(ids) < total or results.more):
        ids += _older_ids(found, kind=kind, start=max(0, shown.start - ranked_total), limit=PAGE_SIZE - len(ids))
    return replace(results, hits=_hits(ids, ts_query=ts_query))


def _sqlite_search(*, query: str, expression: str, viewer: Viewer, kind: str | None, page: int) -> SearchResults:
    """SQLite ranks and counts every match: FTS5 hands over its matches and their bm25 in one cheap pass, and the
    bounded statement above measured slower there (bench/search.py), so the order is rank, then newest, throughout."""
    found = _sqlite(expression).filter(_visible(viewer))
    counts = dict.fromkeys(Kind.values, 0)
    counts.update(dict(found.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")))
    rows = found.filter(kind=kind) if kind else found
    shown = rows.order_by("-rank", "-created", "-id").values("kind", "title", "url", "snippet")
    hits = [SearchHit(kind=r["kind"], title=r["title"], url=r["url"], snippet=_highlighted(r["snippet"]))
            for r in shown[page_slice(page=page, per_page=PAGE_SIZE)]]
    total = counts[kind] if kind else sum(counts.values())
    return SearchResults(query=query, hits=hits, count=total, counts=counts, searched=True, kind=kind)


def _older_ids(found: QuerySet, *, kind: str | None, start: int, limit: int) -> list[int]:
    """Past the ranked window (a page deep into a common word): the other matches, newest first."""
    kinds = [kind] if kind else Kind.values
    window = [
        entry_id for k in kinds
        for entry_id in found.filter(kind=k).order_by("-created", "-id").values_list("id", flat=True)[:RANK_WINDOW]
    ]
    older = found.filter(kind__in=kinds).exclude(id__in=window).order_by("-created", "-id")
    return list(older.values_list("id", flat=True)[start : start + limit])


def _hits(ids: list[int], *, ts_query: SearchQuery) -> list[SearchHit]:
    """The page's entries in the order given, each highlighted (ts_headline runs for these rows only)."""
    rows = SearchEntry.objects.filter(pk__in=ids).annotate(
        snippet=SearchHeadline(
            Coalesce(NullIf("body", Value("")), "title"), ts_query, config=CONFIG, start_sel=_START,
            stop_sel=_STOP, max_words=35, min_words=15,
        )
    )
    by_id = {r["id"]: r for r in rows.values("id", "kind", "title", "url", "snippet")} if ids else {}
    return [
        SearchHit(kind=r["kind"], title=r["title"], url=r["url"], snippet=_highlighted(r["snippet"]))
        for r in (by_id[entry_id] for entry_id in ids)
    ]
