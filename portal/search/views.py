"""The search page. Thin: parse, call the one selector, answer."""

from __future__ import annotations

from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from portal.discussion.selectors import Viewer
from portal.errors import Refusal
from portal.parsing import pager, parse_page

from . import selectors
from .models import Kind


@require_GET
def search_page(request):
    raw = request.GET.get("q", "")
    kind = request.GET.get("kind", "")
    kind = kind if kind in Kind.values else ""
    context = {"q": raw[: selectors.QUERY_MAX_LENGTH], "kind": kind, "kinds": Kind.choices, "results": None}
    if not raw.strip():
        return TemplateResponse(request, "search/index.html", context)
    page = parse_page(request.GET.get("page"))
    try:
        query = selectors.query_parse(raw)
    except Refusal as refusal:
        context["error"] = refusal.message
        return TemplateResponse(request, "search/index.html", context, status=refusal.status)
    results = selectors.search(query=query, viewer=Viewer.of(request.user), kind=kind or None, page=page)
    groups: dict[str, list] = {}
    for hit in results.hits:
        groups.setdefault(hit.kind, []).append(hit)
    labels = dict(Kind.choices)
    context.update(
        results=results,
        groups=[(labels[k], hits) for k, hits in groups.items()],
        **pager(page=page, has_next=page * selectors.PAGE_SIZE < results.count
                or (results.more and len(results.hits) == selectors.PAGE_SIZE)),
    )
    return TemplateResponse(request, "search/index.html", context)
