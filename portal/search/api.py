"""Search over JSON (CONTRACT: GET /api/v1/search). Thin: parse, call the one selector, answer."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import WithJsonSchema

from portal.discussion.selectors import Viewer
from portal.errors import Error, Refusal
from portal.parsing import parse_page

from . import selectors
from .models import Kind

router = Router()
PageText = Annotated[str | None, WithJsonSchema({"type": "integer", "minimum": 1, "default": 1})]


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
    response={200: SearchOut, 400: Error},
)
def search(request: HttpRequest, q: str | None = None, kind: str | None = None, page: PageText = None):
    query = selectors.query_parse(q)
    if kind and kind not in Kind.values:
        raise Refusal(f"Unknown kind {kind[:40]!r}: use one of {', '.join(Kind.values)}.")
    results = selectors.search(
        query=query, viewer=Viewer.of(request.user), kind=kind or None, page=parse_page(page), exact_count=True
    )
    items = [{"kind": h.kind, "title": h.title, "url": h.url, "snippet": h.snippet} for h in results.hits]
    return {"items": items, "count": results.count}
