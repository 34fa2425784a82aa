"""Sanctions moved from portal.discussion to portal.accounts without moving a row: a database migrated before the
move keeps its sanctions, readable through the new model, and the permissions follow the content type."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from portal.accounts.models import Sanction, User
from portal.accounts.sanctions import active_silence

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("accounts", "0001_initial"), ("discussion", "0003_comment_changed_quoted")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def test_a_database_from_before_the_move_keeps_its_sanctions():
    executor = _migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state(BEFORE_THE_MOVE).apps
    assert ContentType.objects.filter(app_label="discussion", model="sanction").exists()
    member = old.get_model("accounts", "User").objects.create(username="0x" + "ab" * 20)
    old.get_model("discussion", "Sanction").objects.create(
        user_id=member.pk, kind="silence", reason="Spam links", ends=timezone.now() + datetime.timedelta(days=1)
    )

    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())

    sanction = Sanction.objects.get()
    assert (sanction.user_id, sanction.kind, sanction.reason) == (member.pk, "silence", "Spam links")
    assert active_silence(user=User.objects.get(pk=member.pk)) == sanction
    assert not ContentType.objects.filter(app_label="discussion", model="sanction").exists()
    assert Permission.objects.filter(content_type__app_label="accounts", codename="add_sanction").exists()


def test_a_fresh_database_has_the_model_in_accounts_on_the_old_table():
    assert Sanction._meta.db_table == "discussion_sanction"
    assert "discussion_sanction" in connection.introspection.table_names()
    assert ContentType.objects.get_for_model(Sanction).app_label == "accounts"
