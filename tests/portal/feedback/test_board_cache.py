"""The board as signed-out readers see it is rendered once per board version and minute (portal/feedback/board.py):
a post, an up-vote, a status change or an admin's edit shows at once, and signed-in readers always get their own
votes and filters, whoever primed the cache."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from portal.feedback import services
from portal.feedback.models import Post

# Real commits: a write's new board version is set after it commits, as on the site.
pytestmark = pytest.mark.django_db(transaction=True)


def _board(client: Client, path: str = "/feedback/?sort=new", **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_a_new_post_shows_at_once(client, idea, bob):
    assert "Add a USDC lending market" in _board(client)
    services.post_create(author=bob, kind="bug", title="The repay button does nothing", body="Clicked twice")
    assert "The repay button does nothing" in _board(client)


def test_an_up_vote_and_taking_it_back_show_at_once(client, idea, bob):
    assert 'data-testid="vote-count">0<' in _board(client)
    services.vote_add(post=idea, user=bob)
    assert 'data-testid="vote-count">1<' in _board(client)
    services.vote_remove(post=idea, user=bob)
    assert 'data-testid="vote-count">0<' in _board(client)


def test_a_status_change_and_an_admin_edit_show_at_once(client, idea, staff):
    _board(client)
    services.post_status_set(post=idea, by=staff, status="planned", note="Next quarter.")
    assert "Planned" in _board(client)
    edited = Post.objects.get(pk=idea.pk)  # a fresh row saved outside the services, as the admin does
    edited.title = "Add a DAI lending market"
    edited.save()
    page = _board(client)
    assert "Add a DAI lending market" in page and "Add a USDC lending market" not in page


def test_signed_in_readers_see_their_own_votes_whoever_primed_it(idea, alice, bob):
    services.vote_add(post=idea, user=bob)
    anonymous, bobs, alices = Client(), Client(), Client()
    bobs.force_login(bob)
    alices.force_login(alice)
    signed_out = _board(anonymous)  # primes the cache
    assert 'aria-pressed' not in signed_out and 'data-testid="vote-count">1<' in signed_out
    assert 'aria-pressed="true"' in _board(bobs)
    mine = _board(alices)
    assert 'aria-pressed="false"' in mine and 'aria-pressed="true"' not in mine
    assert "I voted" in mine and "I voted" not in _board(anonymous)
    voted = _board(alices, "/feedback/?voted=1")
    assert "Add a USDC lending market" not in voted
    assert "Add a USDC lending market" in _board(bobs, "/feedback/?voted=1")


def test_filters_pages_and_htmx_have_their_own_entries(client, idea, question):
    both = _board(client)
    assert "Add a USDC lending market" in both and "How do I repay a loan?" in both
    ideas = _board(client, "/feedback/?kind=idea")
    assert "Add a USDC lending market" in ideas and "How do I repay a loan?" not in ideas
    fragment = _board(client, "/feedback/?kind=question", HX_Request="true")
    assert "How do I repay a loan?" in fragment and "<html" not in fragment
    assert "There are no more posts" in _board(client, "/feedback/?page=4")


def test_the_board_is_served_when_the_cache_is_down(client, idea, bob, settings):
    # The portal's own backend on a dead Redis (the tier badges read the cache directly and rely on it degrading).
    settings.CACHES = {"default": {"BACKEND": "portal.cache.DegradingRedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 1}}}
    assert "Add a USDC lending market" in _board(client)
    services.vote_add(post=idea, user=bob)
    assert 'data-testid="vote-count">1<' in _board(client)


def test_only_the_boards_own_parameters_are_cached(client, idea):
    """A made-up parameter (or a repeated one) is rendered for its reader alone: one cache entry per request would
    let anyone fill the cache, and its links would carry that reader's query to the next one."""
    from django.core.cache import cache

    from portal.feedback.board import board_key

    junk = "/feedback/?sort=new&utm_source=abc"
    assert "Add a USDC lending market" in _board(client, junk)
    assert cache.get(board_key(query="sort=new&utm_source=abc")) is None
    _board(client, "/feedback/?sort=new")
    assert cache.get(board_key(query="sort=new")) is not None
    _board(client, "/feedback/?sort=new&sort=top")
    assert cache.get(board_key(query="sort=new&sort=top")) is None


def test_a_kept_listing_is_read_from_the_process_without_the_shared_cache(client, idea, django_assert_num_queries):
    from django.core.cache import cache

    from portal.feedback.board import board_key

    first = _board(client)
    cache.delete(board_key(query="sort=new"))  # the shared copy gone (the version stays): the process's copy answers
    with django_assert_num_queries(0):
        assert "Add a USDC lending market" in _board(client)
    assert _board(client).count('data-testid="vote-count"') == first.count('data-testid="vote-count"')


def test_signed_out_readers_get_the_whole_board_kept_each_with_a_working_token(idea, monkeypatch):
    import re

    import time_machine
    from django.utils import timezone

    from portal.feedback import views

    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    with time_machine.travel(timezone.now(), tick=False):
        pages = [_board(first), _board(second)]  # the second from the page the first one's request built
        monkeypatch.setattr(views, "signed_out_reader", lambda request: False)
        rendered = _board(Client())  # as the template renders it for a reader
    tokens = [set(re.findall(r'"X-CSRFToken": "([A-Za-z0-9]{64})"', page)) for page in pages]
    assert all(len(found) == 1 for found in tokens) and tokens[0] != tokens[1]
    answer = second.post("/status/subscribe/", {"email": "reader@example.org", "scope": "all",
                                                "csrfmiddlewaretoken": next(iter(tokens[1]))})
    assert answer.status_code == HTTPStatus.FOUND  # the token in its page is one its own cookie makes good
    token = re.compile(r"[A-Za-z0-9]{64}")
    assert "Add a USDC lending market" in pages[1] and "hole-" not in pages[1]
    assert token.sub("TOKEN", pages[1]) == token.sub("TOKEN", rendered)
