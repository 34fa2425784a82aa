"""Reads for the board, the roadmap, the support queue and the similar-post suggestions."""

from __future__ import annotations

import logging
import re
import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from governance.models import Proposal
from governance.selectors import proposal_results
from governance.strategies import checksum
from governance.tiers import loyalty_standings
from portal.conf import portal_settings
from portal.lending.selectors import liquidated_questions

from .models import ROADMAP_STATUSES, Kind, Post, Status, Tag, Vote

log = logging.getLogger(__name__)

SORTS = {"trending": "Trending", "top": "Top", "new": "New", "answered": "Recently answered"}
TRENDING_DAYS = 7
STOPWORDS = {
    "the", "and", "for", "with", "that", "this", "not", "are", "can", "you", "how", "what", "why", "when", "from",
    "have", "has", "was", "but", "our", "please", "there", "would", "should", "could", "into", "your", "about",
}


def post_list(
    *, user=None, kind: str = "", status: str = "", tag: str = "", mine: bool = False, voted: bool = False,
    sort: str = "trending",
) -> QuerySet[Post]:
    """Board listing with filters. Each post carries `i_voted` (False for anonymous visitors)."""
    qs = Post.objects.select_related("author").prefetch_related("tags")
    signed_in = bool(user and user.is_authenticated)
    if signed_in:
        qs = qs.annotate(i_voted=Exists(Vote.objects.filter(post=OuterRef("pk"), user=user)))
    if kind in Kind.values:
        qs = qs.filter(kind=kind)
    if status in Status.values:
        qs = qs.filter(status=status)
    elif not status:
        qs = qs.exclude(status=Status.DUPLICATE)
    if tag:
        qs = qs.filter(tags__slug=tag)
    if mine:
        qs = qs.filter(author=user) if signed_in else qs.none()
    if voted:
        qs = qs.filter(i_voted=True) if signed_in else qs.none()
    if sort == "top":
        return qs.order_by("-vote_count", "-created", "-id")
    if sort == "new":
        return qs.order_by("-created", "-id")
    if sort == "answered":
        return qs.filter(answered_at__isnull=False).order_by("-answered_at", "-id")
    since = timezone.now() - timedelta(days=TRENDING_DAYS)
    return qs.annotate(recent_votes=Count("votes", filter=Q(votes__created__gte=since), distinct=True)).order_by(
        "-recent_votes", "-vote_count", "-created", "-id"
    )


def post_get(*, pk: int, user=None) -> Post:
    qs = Post.objects.select_related("author", "duplicate_of", "thread", "claimed_by", "answered_by")
    if user is not None and user.is_authenticated:
        qs = qs.annotate(i_voted=Exists(Vote.objects.filter(post=OuterRef("pk"), user=user)))
    return qs.get(pk=pk)


def _words(text: str) -> list[str]:
    words = [w for w in re.findall(r"[^\W_]+", (text or "").lower()) if len(w) >= 3 and w not in STOPWORDS]
    return list(dict.fromkeys(words))[:8]


def post_similar(*, text: str, limit: int = 5, exclude_id: int | None = None) -> list[Post]:
    """Existing posts that look like `text` (a title being typed), best match first.

    PostgreSQL: full-text search on title (weight A) and body (weight B), each word also matching as a prefix.
    Elsewhere: every word matched case-insensitively, scored title ×3 + body ×1.
    """
    words = _words(text)
    if not words:
        return []
    qs = Post.objects.exclude(status=Status.DUPLICATE)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    if connection.vendor == "postgresql":
        # PostgreSQL only: importing the search module loads the PostgreSQL driver.
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = SearchVector("title", weight="A", config="english") + SearchVector("body", weight="B", config="english")
        # Words are [^\W_]+ only, so the raw tsquery cannot be malformed.
        query = SearchQuery(" | ".join(f"{w}:*" for w in words), search_type="raw", config="english")
        return list(
            qs.annotate(rank=SearchRank(vector, query))
            .filter(rank__gt=0.0)
            .order_by("-rank", "-vote_count", "-id")[:limit]
        )
    match = Q()
    for w in words:
        match |= Q(title__icontains=w) | Q(body__icontains=w)
    candidates = list(qs.filter(match).only("id", "title", "body", "status", "kind", "vote_count")[:200])

    def score(post: Post) -> tuple:
        title, body = post.title.lower(), post.body.lower()
        return (sum(3 * (w in title) + (w in body) for w in words), post.vote_count, post.pk)

    return sorted(candidates, key=score, reverse=True)[:limit]


def roadmap_columns() -> list[tuple[str, str, list[Post]]]:
    """(status, label, posts) for planned / in progress / done; done shows the latest 20."""
    columns = []
    for status in ROADMAP_STATUSES:
        qs = Post.objects.filter(status=status).exclude(kind=Kind.QUESTION).prefetch_related("tags")
        qs = qs.order_by("-vote_count", "-created") if status != Status.DONE else qs.order_by("-created")[:20]
        columns.append((status.value, status.label, list(qs)))
    return columns


@dataclass(frozen=True)
class QueueItem:
    post: Post
    tier: object | None  # governance.tiers.Tier
    liquidated: bool = False  # the author's first question since their loan was liquidated: it goes first

    @property
    def tier_rank(self) -> int:
        return self.tier.rank if self.tier is not None else -1


def _tiers_of(users) -> dict[int, object]:
    """user id → loyalty tier (or None), read in one batch (cached per address by governance.tiers)."""
    addresses = {}
    for user in users:
        try:
            addresses[user.pk] = checksum(getattr(user, "primary_address", None) or "")
        except ValueError:
            continue
    standings = loyalty_standings(addresses.values()) if addresses else {}
    result = {}
    for user in users:
        standing = standings.get(addresses.get(user.pk, ""))
        result[user.pk] = standing.tier if standing else None
    return result


def queue_items() -> list[QueueItem]:
    """Unsolved support questions: the first question of a borrower since their loan was liquidated, then highest
    loyalty tier first, then oldest first. Tiers are read live (cached)."""
    posts = list(
        Post.objects.filter(kind=Kind.QUESTION, solved_at__isnull=True)
        .exclude(status__in=[Status.DUPLICATE, Status.DECLINED])
        .select_related("author", "claimed_by")
    )
    tiers = _tiers_of([p.author for p in posts])
    liquidated = liquidated_questions(posts)
    items = [QueueItem(post=p, tier=tiers[p.author_id], liquidated=p.pk in liquidated) for p in posts]
    items.sort(key=lambda item: (not item.liquidated, -item.tier_rank, item.post.created, item.post.pk))
    return items


def _median_seconds(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def queue_figures(*, items: list[QueueItem] | None = None, days: int | None = None) -> dict:
    """Open count, and the median first-response time of questions asked in the last `days` (default
    PORTAL["FEEDBACK_FIGURES_DAYS"], 90), overall and per tier (tiers as they are now)."""
    days = days if days is not None else portal_settings().feedback_figures_days
    items = queue_items() if items is None else items
    answered = list(
        Post.objects.filter(
            kind=Kind.QUESTION, first_response_at__isnull=False, created__gte=timezone.now() - timedelta(days=days)
        ).select_related("author")
    )
    tiers = _tiers_of([p.author for p in answered])
    per_tier: dict[str, dict] = {}

    def row(tier) -> dict:
        key = tier.slug if tier else ""
        return per_tier.setdefault(
            key, {"tier": tier, "rank": tier.rank if tier else -1, "open": 0, "responses": []}
        )

    for item in items:
        row(item.tier)["open"] += 1
    all_responses = []
    for post in answered:
        seconds = (post.first_response_at - post.created).total_seconds()
        all_responses.append(seconds)
        row(tiers[post.author_id])["responses"].append(seconds)
    rows = sorted(per_tier.values(), key=lambda r: -r["rank"])
    for r in rows:
        r["median_first_response"] = _median_seconds(r.pop("responses"))
    return {
        "open": len(items),
        "unanswered": sum(1 for i in items if i.post.first_response_at is None),
        "median_first_response": _median_seconds(all_responses),
        "days": days,
        "per_tier": rows,
    }


def post_proposal(post: Post):
    """The governance proposal an idea was promoted to, or None."""
    if not post.proposal_number:
        return None
    return Proposal.objects.filter(number=post.proposal_number).first()


def post_proposal_results(proposal):
    """The proposal's results once voting has started (None for drafts, or if they cannot be read)."""
    if proposal is None or proposal.activated_at is None:
        return None
    try:
        return proposal_results(proposal=proposal)
    except Exception:  # a broken tally must not take the feedback post down with it
        log.exception("results of proposal %s unavailable", proposal.pk)
        return None


def tag_list():
    """Every tag with its number of posts, by name."""
    return Tag.objects.annotate(posts_count=Count("posts")).order_by("name")

