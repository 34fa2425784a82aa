import logging

from django.apps import AppConfig
from django.db import DatabaseError
from django.db.models.signals import post_migrate

log = logging.getLogger(__name__)


def _rerender_comments(sender, **kwargs) -> None:
    # Imported here: models are not ready when this module loads.
    from .rendering import comment_html_backfill

    try:
        done = comment_html_backfill()
    except DatabaseError as exc:  # migrated back below the column: nothing to re-render
        log.info("comments not re-rendered: %s", exc)
        return
    if done:
        log.info("re-rendered %s comments with the current markdown renderer", done)


class DiscussionConfig(AppConfig):
    name = "portal.discussion"
    label = "discussion"

    def ready(self) -> None:
        post_migrate.connect(_rerender_comments, sender=self)
