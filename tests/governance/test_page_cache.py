"""The proposal list's body is rendered once per version of what it shows (portal.cache.cached_version): every
change shows at once, the clock's state changes too, and nothing of one reader's is in what the next one is sent."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.test import Client

from governance import services

pytestmark = pytest.mark.django_db


def _list(client: Client, path: str = "/proposals/") -> str:
    response = client.get(path)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_the_list_is_built_once_and_read_in_one_query(make_proposal, client, django_assert_num_queries):
    make_proposal("basic", title="Raise the USDC cap")
    with django_assert_num_queries(3):  # the version, then the count and the page (with the tallies)
        _list(client)
    with django_assert_num_queries(1):  # the version: the rest comes from the cache
        assert "Raise the USDC cap" in _list(client)


def test_a_new_proposal_and_an_edit_show_at_once(make_proposal, admin_user, client):
    first = make_proposal("basic", title="Raise the USDC cap", activate=False)
    assert "Raise the USDC cap" in _list(client)
    make_proposal("basic", title="Grants round")
    assert "Grants round" in _list(client)
    services.proposal_update(proposal=first, editor=admin_user, title="Lower the USDC cap")
    page = _list(client)
    assert "Lower the USDC cap" in page and "Raise the USDC cap" not in page


def test_a_vote_changes_the_tally_in_the_list_at_once(make_proposal, ballot, post_vote, dev_accounts, client):
    proposal = make_proposal("single-choice", ["A", "B"])
    assert "0 voters" in _list(client)
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 2)).status_code == HTTPStatus.CREATED
    assert "1 voter" in _list(client)
    assert post_vote(proposal.number, ballot(dev_accounts[2], proposal, 1)).status_code == HTTPStatus.CREATED
    assert "2 voters" in _list(client)


def test_the_clock_closing_a_proposal_shows_within_the_minute(make_proposal, client):
    proposal = make_proposal("basic", title="Short vote", hours=1)
    with time_machine.travel(proposal.end - timedelta(seconds=1), tick=False):
        assert "Closes" in _list(client) and "Ended" not in _list(client)
    with time_machine.travel(proposal.end + timedelta(seconds=1), tick=False):  # no write, and the same minute
        page = _list(client)
        assert "Ended" in page and "Closes" not in page


def test_a_reader_primed_list_shows_each_reader_their_own_header(make_proposal, make_user, client):
    make_proposal("basic", title="Raise the USDC cap")
    member = Client()
    make_user(signed_in_client=member)
    signed_in = _list(member)  # primes the cache signed in
    assert 'data-testid="new-proposal"' in signed_in and "Raise the USDC cap" in signed_in
    anonymous = _list(client)
    assert 'data-testid="new-proposal"' not in anonymous and 'data-testid="siwe-signin"' in anonymous
    assert "Raise the USDC cap" in anonymous
    again = _list(member)
    assert 'data-testid="new-proposal"' in again and 'data-testid="siwe-signin"' not in again


def test_filters_pages_and_htmx_have_their_own_entries(make_proposal, client):
    make_proposal("basic", title="Raise the USDC cap")
    make_proposal("basic", title="Grants round", activate=False)
    assert "Grants round" in _list(client)
    active = _list(client, "/proposals/?state=active")
    assert "Raise the USDC cap" in active and "Grants round" not in active
    found = client.get("/proposals/?q=grants", headers={"HX-Request": "true"}).content.decode()
    assert "Grants round" in found and "USDC" not in found and "<html" not in found
    assert "no proposals on this page" in _list(client, "/proposals/?page=9")


def test_a_search_a_deep_page_or_an_unknown_filter_is_rendered_for_its_reader_alone(
    make_proposal, client, django_assert_num_queries
):
    make_proposal("basic", title="Grants round")
    # Not kept: the second costs the same as the first, and no version is read (the count, and the page if any).
    for path, queries in (("/proposals/?q=grants", 2), ("/proposals/?page=6", 1), ("/proposals/?state=made-up", 2)):
        for _ in range(2):
            with django_assert_num_queries(queries):
                _list(client, path)
    assert "Grants round" in _list(client, "/proposals/?q=grants")


def test_the_list_is_served_when_the_cache_is_down(make_proposal, client, settings):
    make_proposal("basic", title="Raise the USDC cap")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 1}}}
    for _ in range(2):
        assert "Raise the USDC cap" in _list(client)


@pytest.mark.django_db(transaction=True)
def test_committed_writes_show_at_once_through_the_kept_sqlite_reader(
    make_proposal, admin_user, ballot, post_vote, dev_accounts, client,
):
    """Outside a test transaction, as in a server: on SQLite the list's version is read through the process's
    kept-open reader connection, and each commit (a proposal, an edit, a vote) still shows on the next request."""
    from django.db import connection

    from portal import cache as portal_cache

    portal_cache._readers.clear()  # so the check at the end is about this list's reads
    draft = make_proposal("basic", title="Raise the USDC cap", activate=False)
    assert "Raise the USDC cap" in _list(client)
    services.proposal_update(proposal=draft, editor=admin_user, title="Lower the USDC cap")
    assert "Lower the USDC cap" in _list(client)
    active = make_proposal("single-choice", ["A", "B"], title="Grants round")
    assert "Grants round" in _list(client)
    before = _list(client)
    assert post_vote(active.number, ballot(dev_accounts[1], active, 1)).status_code == HTTPStatus.CREATED
    assert _list(client) != before  # the running tally moved
    if connection.vendor == "sqlite":  # the reader it was about answered (on PostgreSQL the pool's connection does)
        assert portal_cache._readers


def _tokens(page: str) -> set[str]:
    import re

    return set(re.findall(r'"X-CSRFToken": "([A-Za-z0-9]{64})"', page)) | set(
        re.findall(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', page))


def test_signed_out_readers_get_the_whole_page_kept_each_with_a_working_token_of_their_own(
    make_proposal, make_user, client, django_assert_num_queries,
):
    make_proposal("basic", title="Raise the USDC cap")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = [_list(first), _list(second)]  # the second is served from the page the first one's request built
    tokens = [_tokens(page) for page in pages]
    assert all(len(found) == 1 for found in tokens) and tokens[0] != tokens[1]
    assert all("Raise the USDC cap" in page for page in pages)
    answer = second.post("/status/subscribe/", {"email": "reader@example.org", "scope": "all",
                                                "csrfmiddlewaretoken": next(iter(tokens[1]))})
    assert answer.status_code == HTTPStatus.FOUND  # the token in its page is one its own cookie makes good
    refused = first.post("/status/subscribe/", {"email": "reader@example.org", "scope": "all",
                                                "csrfmiddlewaretoken": "x" * 64})
    assert refused.status_code == HTTPStatus.FORBIDDEN
    with django_assert_num_queries(1):  # the version: page and layout come from the cache
        _list(Client())
    member = Client()
    make_user(joined=timedelta(days=60), signed_in_client=member)
    page = _list(member)  # signed in: rendered for them, not the signed-out page
    assert 'data-testid="new-proposal"' in page and 'data-signed-in="true"' in page


def test_the_kept_signed_out_page_is_the_page_the_template_renders(make_proposal, client, monkeypatch):
    import re

    from django.utils import timezone

    from governance import views

    make_proposal("basic", title="Raise the USDC cap")
    with time_machine.travel(timezone.now(), tick=False):
        _list(client)  # builds the page kept for signed-out readers
        served = _list(client)
        monkeypatch.setattr(views, "signed_out_reader", lambda request: False)
        rendered = _list(Client())  # the same reader's page rendered as a signed-in one's is
    token = re.compile(r"[A-Za-z0-9]{64}")
    assert "Raise the USDC cap" in served and 'data-signed-in="false"' in served and "hole-" not in served
    assert token.sub("TOKEN", served) == token.sub("TOKEN", rendered)


def test_a_signed_out_reader_with_a_message_sees_it_once(make_proposal, client, rf):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage

    make_proposal("basic", title="Raise the USDC cap")
    _list(Client())  # primes the kept page
    storage = CookieStorage(rf.get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "Your e-mail is confirmed.")])
    assert "Your e-mail is confirmed." in _list(client)
    assert "Your e-mail is confirmed." not in _list(client)
