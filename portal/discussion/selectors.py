"""Reads for the discussion: what a given viewer may see of threads and comments."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from portal.accounts.models import Sanction
from portal.accounts.roles import is_moderator
from portal.conf import portal_settings
from portal.parsing import page_rows
from portal.parsing import page_slice

from .models import Category, Comment, Flag, ModerationAction, Thread

CATCH_UP_OVERLAP = datetime.timedelta(seconds=30)
COMMENTS_PER_PAGE = 50  # top-level comments on a thread page (each with its latest REPLIES_SHOWN replies)
REPLIES_SHOWN = 20  # a top-level comment's latest replies shown with it; "Show earlier replies" pages the rest
REPLIES_PER_PAGE = 100  # one comment's replies a page, when a reader opens them (?replies=<id>&rpage=<n>)
API_COMMENTS_PER_PAGE = 100


def edit_grace_seconds() -> int:
    """How long after posting an author may still edit a comment."""
    return portal_settings().discussion_edit_grace_seconds


@dataclass(frozen=True)
class Viewer:
    """Who is looking: decides hidden content and which controls a comment shows."""

    user_id: int | None = None
    moderator: bool = False

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None or self.moderator

    @classmethod
    def of(cls, user) -> Viewer:
        if user is None or not user.is_authenticated:
            return cls()
        return cls(user_id=user.pk, moderator=is_moderator(user))


def category_list(*, listed_only: bool = True) -> QuerySet[Category]:
    qs = Category.objects.annotate(thread_count=Count("threads", filter=Q(threads__hidden=False)))
    qs = qs.order_by("position", "name")  # Meta.ordering does not apply to aggregating queries
    return qs.filter(listed=True) if listed_only else qs


THREADS_PER_PAGE = 30


def thread_list(*, viewer: Viewer, category: Category | None = None, page: int = 1) -> tuple[list[Thread], bool]:
    """One page of threads, pinned first, then by latest activity, and whether another page follows; the unlisted
    "feedback" threads only inside their own category."""
    qs = Thread.objects.select_related("category", "author").annotate(
        comment_count=Count("comments", filter=Q(comments__deleted__isnull=True, comments__hidden=False))
    )
    qs = qs.filter(category=category) if category else qs.filter(category__listed=True)
    if not viewer.moderator:
        qs = qs.filter(hidden=False)
    return page_rows(qs.order_by("-pinned", "-last_activity", "-id"), page=page, per_page=THREADS_PER_PAGE)


def thread_visible(*, thread: Thread, viewer: Viewer) -> bool:
    return not thread.hidden or viewer.moderator


def comment_list_visible(*, thread: Thread) -> QuerySet[Comment]:
    """The comments everyone may read: neither hidden nor deleted, oldest first."""
    return Comment.objects.filter(thread=thread, hidden=False, deleted__isnull=True)


def comment_list_visible_page(*, thread: Thread, page: int, per_page: int = API_COMMENTS_PER_PAGE) -> QuerySet[Comment]:
    """One page of `comment_list_visible`, oldest first (page 1 = the first comments), authors joined."""
    return comment_list_visible(thread=thread).select_related("author").order_by("created", "id")[
        page_slice(page=page, per_page=per_page)
    ]


def _comment_queryset() -> QuerySet[Comment]:
    return Comment.objects.select_related("author", "parent__author", "quoted__author")


@dataclass(frozen=True)
class CommentPage:
    """A page of a thread: `comments` are top-level, oldest first, each with `.reply_list` (oldest first) and
    `.replies_shown` (a RepliesShown: how many it has and which of them are shown)."""

    comments: list[Comment]
    page: int
    earlier: bool  # older top-level comments exist: page + 1
    opened: int | None = None  # the comment whose replies the reader paged through (?replies=)

    @property
    def latest(self) -> bool:
        return self.page == 1

    @property
    def first_id(self) -> int | None:
        return self.comments[0].pk if self.comments else None


@dataclass(frozen=True)
class RepliesShown:
    """Which of a top-level comment's replies a page shows: ranks are counted from the latest reply (1)."""

    total: int
    rpage: int | None = None  # None: the latest REPLIES_SHOWN, as every comment starts; n: page n of REPLIES_PER_PAGE

    @property
    def stop(self) -> int:
        return REPLIES_SHOWN if self.rpage is None else self.rpage * REPLIES_PER_PAGE

    @property
    def earlier(self) -> int:
        """Replies before the first one shown."""
        return max(0, self.total - self.stop)

    @property
    def next_rpage(self) -> int:
        return 1 if self.rpage is None else self.rpage + 1

    @property
    def later(self) -> bool:
        """Replies after the last one shown exist (only on an opened page past the first)."""
        return bool(self.rpage and self.rpage > 1)


# The ids a thread page shows, in one statement (plain SQL: the ORM took longer to compile its window than the
# database took to answer): one more top-level comment than a page, newest first (if it comes back, there are
# earlier comments), and in each family (a top-level comment and its replies) the comment itself (rank 1) and its
# latest replies, one more than are shown so a family with more says so — the opened comment's replies aside.
_SHOWN_IDS = """
SELECT id FROM (
  SELECT id, ROW_NUMBER() OVER (PARTITION BY COALESCE(parent_id, id)
                                ORDER BY parent_id IS NOT NULL, created DESC, id DESC) AS family_rank
  FROM {table} WHERE thread_id = %s AND COALESCE(parent_id, id) IN (
    SELECT id FROM {table} WHERE thread_id = %s AND parent_id IS NULL ORDER BY created DESC, id DESC LIMIT %s OFFSET %s)
  AND (parent_id IS NULL OR parent_id <> %s)
) AS ranked WHERE family_rank <= %s
"""


def comment_page(*, thread: Thread, page: int = 1, per_page: int = COMMENTS_PER_PAGE, replies_of: int | None = None,
                 rpage: int = 1) -> CommentPage:
    """Page 1 holds the latest `per_page` top-level comments, page 2 the ones before them, and so on; each with its
    latest REPLIES_SHOWN replies (one level of nesting), or, for the comment `replies_of`, page `rpage` of
    REPLIES_PER_PAGE of them. One query whatever the thread's size, one more when a comment has more replies than
    are shown, two more for an opened comment; hidden and deleted comments are included (the cards decide what each
    viewer sees of them)."""
    window = page_slice(page=page, per_page=per_page)
    rows = list(_comment_queryset().filter(pk__in=RawSQL(_SHOWN_IDS.format(table=Comment._meta.db_table), [
        thread.pk, thread.pk, window.stop + 1 - window.start, window.start, replies_of or 0, REPLIES_SHOWN + 2,
    ])).order_by("created", "id"))
    top = [c for c in rows if c.parent_id is None]
    earlier = len(top) > per_page
    top = top[1:] if earlier else top
    by_id = {c.pk: c for c in top}
    opened = replies_of if replies_of in by_id else None
    for c in top:
        c.reply_list = []
    for c in rows:
        if c.parent_id in by_id:
            by_id[c.parent_id].reply_list.append(c)
    crowded = [c.pk for c in top if len(c.reply_list) > REPLIES_SHOWN]  # rare: a query only when there are some
    totals = dict(Comment.objects.filter(parent_id__in=crowded).values_list("parent_id").annotate(n=Count("id"))
                  .values_list("parent_id", "n")) if crowded else {}
    for c in top:
        c.reply_list = c.reply_list[-REPLIES_SHOWN:]
        c.replies_shown = RepliesShown(total=totals.get(c.pk, len(c.reply_list)))
    if opened is not None:
        replies = _comment_queryset().filter(parent_id=opened)
        shown = page_slice(page=rpage, per_page=REPLIES_PER_PAGE)
        by_id[opened].reply_list = sorted(replies.order_by("-created", "-id")[shown], key=lambda r: (r.created, r.pk))
        by_id[opened].replies_shown = RepliesShown(total=replies.count(), rpage=rpage)
    return CommentPage(comments=top, page=page, earlier=earlier, opened=opened)


def comment_changes(
    *, thread: Thread, since: datetime.datetime | None, first_id: int | None = None
) -> tuple[list[Comment], datetime.datetime]:
    """Comments created or changed since `since` (with an overlap, since commits and broadcasts may interleave
    across processes; re-applying a fragment is harmless), parents before replies, and the new cursor. With
    `first_id` (the oldest top-level comment on the reader's page) only that comment and later ones, with their
    replies: an edit on an earlier page is not appended to the latest one."""
    now = timezone.now()
    qs = _comment_queryset().filter(thread=thread)
    if first_id is not None:
        qs = qs.filter(Q(parent__isnull=True, pk__gte=first_id) | Q(parent_id__gte=first_id))
    if since is not None:
        qs = qs.filter(changed__gte=since - CATCH_UP_OVERLAP)
    comments = sorted(qs, key=lambda c: (c.parent_id is not None, c.created, c.pk))
    return comments, now


@dataclass(frozen=True)
class QueueItem:
    kind: str  # "comment" or "thread"
    target: Comment | Thread
    flags: list[Flag]
    author_history: dict


def _flagged(model: type[Comment] | type[Thread], *related: str) -> QuerySet:
    """Comments or threads with open flags, each with `.open_flags` and only its open flags prefetched."""
    is_open = Q(flags__outcome=Flag.Outcome.OPEN)
    return (
        model.objects.filter(is_open)
        .annotate(open_flags=Count("flags", filter=is_open, distinct=True))
        .select_related(*related)
        .prefetch_related(Prefetch("flags", queryset=Flag.objects.filter(outcome=Flag.Outcome.OPEN).select_related("user")))
        .order_by("-open_flags", "created")
        .distinct()
    )


def review_queue(*, limit: int = 50) -> list[QueueItem]:
    """Items with open flags, most-flagged first, with the flags and their author's record."""
    comments = _flagged(Comment, "author", "thread")[:limit]
    threads = _flagged(Thread, "author", "category")[:limit]
    items = [QueueItem("comment", c, list(c.flags.all()), author_history(user=c.author)) for c in comments]
    items += [
        QueueItem("thread", t, list(t.flags.all()), author_history(user=t.author) if t.author else {}) for t in threads
    ]
    items.sort(key=lambda item: (-item.target.open_flags, item.target.created))
    return items[:limit]


def author_history(*, user) -> dict:
    """What a moderator wants to know about an author before deciding."""
    now = timezone.now()
    return {
        "comments": Comment.objects.filter(author=user, deleted__isnull=True).count(),
        "hidden": Comment.objects.filter(author=user, hidden=True).count(),
        "flags_agreed": Flag.objects.filter(comment__author=user, outcome=Flag.Outcome.AGREED).count(),
        "sanctions": list(Sanction.objects.filter(user=user).order_by("-starts")[:5]),
        "active_sanction": Sanction.objects.filter(user=user, ends__gt=now, lifted__isnull=True).first(),
        "joined": user.date_joined,
    }


def moderation_log(*, limit: int = 100) -> list[ModerationAction]:
    return list(
        ModerationAction.objects.select_related("moderator", "thread", "comment", "target_user").order_by("-created", "-id")[
            :limit
        ]
    )


def parse_cursor(raw: str | None) -> datetime.datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
