"""Discussion fixtures: members, a moderator, a thread, and signed-in websocket headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from portal.discussion.services import thread_create

# Accounts this old get the normal rate limit; newer ones the stricter newcomers' limit.
ESTABLISHED = timedelta(days=30)


@pytest.fixture(autouse=True)
def default_categories(db):
    """Transactional tests flush the seeded categories; put them back."""
    from portal.discussion.services import DEFAULT_CATEGORIES, category_ensure

    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)


@pytest.fixture
def member(make_user):
    return make_user(joined=ESTABLISHED)


@pytest.fixture
def other_member(make_user):
    return make_user(joined=ESTABLISHED)


@pytest.fixture
def moderator(make_user):
    return make_user(joined=ESTABLISHED, groups=["moderators"])


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
