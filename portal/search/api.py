"""Search over JSON (CONTRACT: GET /api/v1/search). Thin: parse, call the one selector, answer."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from portal.discussion.selectors import Viewer
from portal.api_types import answers, one_of, text
from portal.errors import Refusal
from portal.parsing import PageQuery, parse_page

from . import selectors
from .models import Kind

router = Router()
# Checked by selectors.query_parse and the view, with their sentences; documented here. Without q the answer is a
# 400 sentence too.
SearchText = text(min_length=1, max_length=selectors.QUERY_MAX_LENGTH, pattern=r"\S",
                  description="Words and \"quoted phrases\"; -word leaves a word out")
KindFilter = one_of(Kind.values, blank=True, description="Only this kind of result; empty for all")


class SearchItemOut(Schema):
    kind: Literal["proposal", "thread", "comment", "feedback", "incident"]
    title: str
    url: str
    snippet: str = Field(..., description="HTML: the matching text, escaped, with the words found in <mark>")


class SearchOut(Schema):
    items: list[SearchItemOut]
    count: int


@router.get(
    "/search", summary="Search proposals, threads, comments, feedback and incidents, best match first",
    response=answers({200: SearchOut}, 400),
)
def search(request: HttpRequest, q: SearchText = None, kind: KindFilter = None, page: PageQuery = None):
    query = selectors.query_parse(q)
    if kind and kind not in Kind.values:
        raise Refusal(f"Unknown kind {kind[:40]!r}: use one of {', '.join(Kind.values)}.")
    results = selectors.search(
        query=query, viewer=Viewer.of(request.user), kind=kind or None, page=parse_page(page), exact_count=True
    )
    items = [{"kind": h.kind, "title": h.title, "url": h.url, "snippet": h.snippet} for h in results.hits]
    return {"items": items, "count": results.count}
