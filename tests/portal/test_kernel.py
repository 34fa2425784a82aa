"""The kernel every app uses: typed settings, Refusal and its translations, broadcast after commit, roles."""

from __future__ import annotations

import json
from decimal import Decimal
from http import HTTPStatus

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import RequestFactory

from portal.accounts.models import User
from portal.accounts.roles import admins, is_admin, is_moderator, is_status_staff, moderators
from portal.conf import portal_settings
from portal.errors import NotFound, RateLimited, Refusal, refusal_frame, refusal_response
from portal.live import broadcast


def test_settings_cast_environment_text_to_their_types(settings):
    settings.PORTAL = {**settings.PORTAL, "SNAPSHOT_CONFIRMATIONS": "7", "BADGE_WEIGHT": "2.5", "REFUSE_DEV_KEYS": "0"}
    conf = portal_settings()
    assert conf.snapshot_confirmations == 7
    assert conf.badge_weight == Decimal("2.5")
    assert conf.refuse_dev_keys is False


def test_settings_defaults_live_in_one_place(settings):
    settings.PORTAL = {}
    conf = portal_settings()
    assert conf.votes_per_minute == 20
    assert conf.discussion_edit_grace_seconds == 3600
    assert [tier["slug"] for tier in conf.tier_table()] == ["bronze", "silver", "gold"]


@pytest.mark.parametrize(
    ("key", "value", "sentence"),
    [
        ("SNAPSHOT_CONFIRMATIONS", "three", "SNAPSHOT_CONFIRMATIONS is set to 'three', but it must be a whole number."),
        ("WEIGHT_CHUNK_SIZE", "²", "WEIGHT_CHUNK_SIZE is set to '²', but it must be a whole number."),
        ("BADGE_WEIGHT", "NaN", "BADGE_WEIGHT is set to 'NaN', but it must be a finite decimal number."),
        ("DEFAULT_STRATEGIES", "{not json", "DEFAULT_STRATEGIES is set to '{not json', but it must be JSON."),
    ],
)
def test_a_bad_setting_is_refused_with_a_sentence_naming_it(settings, key, value, sentence):
    settings.PORTAL = {**settings.PORTAL, key: value}
    with pytest.raises(ImproperlyConfigured) as refused:
        portal_settings()
    assert str(refused.value) == sentence


def test_a_mistyped_setting_key_fails_loudly(settings):
    settings.PORTAL = {**settings.PORTAL, "VOTES_PER_MINUTES": 3}
    with pytest.raises(ImproperlyConfigured, match="VOTES_PER_MINUTES.*is not a portal setting"):
        portal_settings()


def test_refusal_answers_json_under_the_api_and_a_page_elsewhere(db):
    factory = RequestFactory()
    api_answer = refusal_response(factory.get("/api/v1/anything"), NotFound("There is no proposal 9."))
    assert api_answer.status_code == HTTPStatus.NOT_FOUND
    assert json.loads(api_answer.content) == {"error": "There is no proposal 9."}
    page_request = factory.get("/proposals/9/", HTTP_ACCEPT="text/html")
    page_request.user = AnonymousUser()
    page = refusal_response(page_request, Refusal("Voting has closed.", HTTPStatus.CONFLICT))
    page.render()
    assert page.status_code == HTTPStatus.CONFLICT
    assert "Voting has closed." in page.content.decode()


def test_rate_limited_carries_retry_after():
    answer = refusal_response(RequestFactory().get("/api/v1/x"), RateLimited("Slow down.", retry_after=42))
    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert answer["Retry-After"] == "42"
    assert json.loads(refusal_frame(RateLimited("Slow down.", 5))) == {"error": "Slow down.", "status": 429}


def test_broadcast_leaves_only_after_commit_and_never_on_rollback(transactional_db):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("kernel.test", channel)
    with transaction.atomic():
        broadcast("kernel.test", {"type": "x.y", "n": 1})
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                broadcast("kernel.test", {"type": "x.y", "n": 2})
                raise RuntimeError
    with pytest.raises(RuntimeError), transaction.atomic():
        broadcast("kernel.test", lambda: {"type": "x.y", "n": 3})
        raise RuntimeError
    broadcast("kernel.test", lambda: {"type": "x.y", "n": 4})
    received = [async_to_sync(layer.receive)(channel)["n"] for _ in range(2)]
    assert received == [1, 4]


def test_a_broken_channel_layer_costs_the_live_update_not_the_write(transactional_db, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        with transaction.atomic():
            User.objects.create(username="kept")
            broadcast("kernel.test", {"type": "x.y"})
        assert User.objects.filter(username="kept").exists()
    finally:
        channel_layers.backends.clear()


def test_roles_are_one_definition(db):
    admin_group, _ = Group.objects.get_or_create(name="admins")
    moderator_group, _ = Group.objects.get_or_create(name="moderators")
    member = User.objects.create(username="member")
    staff = User.objects.create(username="staff", is_staff=True)
    grouped_admin = User.objects.create(username="grouped-admin")
    grouped_admin.groups.add(admin_group)
    moderator = User.objects.create(username="moderator")
    moderator.groups.add(moderator_group)
    assert [is_admin(u) for u in (member, staff, grouped_admin, moderator)] == [False, True, True, False]
    assert [is_moderator(u) for u in (member, staff, grouped_admin, moderator)] == [False, True, True, True]
    assert [is_status_staff(u) for u in (member, staff, grouped_admin, moderator)] == [False, True, True, False]
    assert set(admins()) == {staff, grouped_admin}
    assert set(moderators()) == {staff, grouped_admin, moderator}
