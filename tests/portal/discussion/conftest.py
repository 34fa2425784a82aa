"""Discussion fixtures: members, a moderator, a thread, and signed-in websocket headers."""

from __future__ import annotations

import datetime
import secrets

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from portal.accounts.models import User
from portal.discussion.services import thread_create


def make_user(*, old: bool = True, moderator: bool = False) -> User:
    address = "0x" + secrets.token_hex(20)
    user = User.objects.create(username=address)
    if old:  # established accounts get the normal rate limit
        User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - datetime.timedelta(days=30))
        user.refresh_from_db()
    if moderator:
        user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    return user


@pytest.fixture(autouse=True)
def default_categories(db):
    """Transactional tests flush the seeded categories; put them back."""
    from portal.discussion.services import DEFAULT_CATEGORIES, category_ensure

    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)


@pytest.fixture
def member(db):
    return make_user()


@pytest.fixture
def other_member(db):
    return make_user()


@pytest.fixture
def moderator(db):
    return make_user(moderator=True)


@pytest.fixture
def thread(db):
    return thread_create(title="Raise the WETH loan-to-value to 80%", category_slug="governance", author=None)


def session_headers(user) -> list[tuple[bytes, bytes]]:
    """Headers of a browser that is signed in as `user` (a real session cookie) on the test host."""
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", cookie.encode())]


ANONYMOUS_HEADERS = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
