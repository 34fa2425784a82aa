"""The board's list as a signed-out reader sees it, rendered once per version of the board and minute.

The version is a random token in the shared cache, replaced once a write to a post or a tag commits (model signals,
so the admin's edits count too) or a vote count changes (services._recount, the one place it is written: a signal on
Vote would cost every vote's delete a query). A token, not a counter, so an evicted version never comes back. The
minute bounds
what no write here marks: "3 hours ago", the trending window, an author's new name or tier — and, while Redis is
down and each worker keeps its own token, another worker's writes.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from portal.cache import CACHE_ERRORS, versioned_key

from .models import Post, Tag

VERSION_KEY = "feedback:board-version"
BOARD_SECONDS = 60


def board_version() -> str:
    try:
        token = cache.get(VERSION_KEY)
        if token is None:
            cache.add(VERSION_KEY, secrets.token_hex(8), None)
            token = cache.get(VERSION_KEY)
    except CACHE_ERRORS:
        token = None
    return token or secrets.token_hex(8)  # no cache at all: a version of its own, so the list is built fresh


def board_key(*, query: str) -> str:
    """The cache key of one listing (its whole query string: sort, filters, page) at the board's version and this
    minute."""
    return versioned_key("feedback:board", board_version(), query, minute_seconds=BOARD_SECONDS)


def _new_version() -> None:
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), None)
    except CACHE_ERRORS:
        pass  # the minute still bounds it


def board_changed(**signal) -> None:
    """The board shows something new once the current transaction commits."""
    transaction.on_commit(_new_version)


def connect() -> None:
    for model in (Post, Tag):
        post_save.connect(board_changed, sender=model, dispatch_uid=f"feedback-board-save-{model.__name__}")
        post_delete.connect(board_changed, sender=model, dispatch_uid=f"feedback-board-delete-{model.__name__}")
    m2m_changed.connect(board_changed, sender=Post.tags.through, dispatch_uid="feedback-board-tags")
