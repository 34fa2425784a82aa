"""The proposal page's public parts (head, body, results, voters, details, timeline, the discussion card and
the signed-out voting card) are rendered once per version of what they show: each change, real commits through
the services and the API, shows at once, the clock's close too, and each reader's own parts (their vote, the
form, the admin's buttons, the CSRF token) stay theirs."""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from governance import services

pytestmark = pytest.mark.django_db


def _page(client: Client, proposal) -> str:
    response = client.get(proposal.get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_a_new_vote_changes_the_results_and_voters_at_once(make_proposal, ballot, post_vote, dev_accounts, client):
    proposal = make_proposal("single-choice", ["A", "B"])
    assert 'data-testid="voter-count">0<' in _page(client, proposal)
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 2)).status_code == HTTPStatus.CREATED
    page = _page(client, proposal)
    assert 'data-testid="voter-count">1<' in page and dev_accounts[1].address[:6] in page
    assert post_vote(proposal.number, ballot(dev_accounts[2], proposal, 1, reason="A is safer")).status_code == 201
    page = _page(client, proposal)
    assert 'data-testid="voter-count">2<' in page and "A is safer" in page


def test_the_clock_closing_a_proposal_shows_without_a_write(make_proposal, ballot, post_vote, dev_accounts, client):
    proposal = make_proposal("basic", hours=1)
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1)).status_code == HTTPStatus.CREATED
    with time_machine.travel(proposal.end - timedelta(seconds=1), tick=False):
        page = _page(client, proposal)
        assert "live-dot" in page and 'data-testid="sign-in-to-vote"' in page and 'data-testid="outcome"' not in page
    with time_machine.travel(proposal.end + timedelta(seconds=1), tick=False):  # nothing written: the clock alone
        page = _page(client, proposal)
        assert 'data-testid="outcome"' in page and "Voting closed" in page
        assert "live-dot" not in page and 'data-testid="sign-in-to-vote"' not in page


def test_an_execution_and_a_cancel_show_at_once(make_proposal, ballot, post_vote, dev_accounts, admin_user, client):
    executed = make_proposal("basic", hours=1)
    cancelled = make_proposal("basic", title="Cancelled one")
    assert post_vote(executed.number, ballot(dev_accounts[1], executed, 1)).status_code == HTTPStatus.CREATED
    assert "The oracle was wrong." not in _page(client, cancelled)
    services.proposal_cancel(proposal=cancelled, actor=admin_user, reason="The oracle was wrong.")
    page = _page(client, cancelled)
    assert "The oracle was wrong." in page and 'data-testid="sign-in-to-vote"' not in page
    with time_machine.travel(executed.end + timedelta(minutes=1), tick=False):
        assert "Executed in" not in _page(client, executed)
        services.proposal_mark_executed(proposal=executed, actor=admin_user, tx_hash="0x" + "ab" * 32)
        page = _page(client, executed)
        assert "Executed in" in page and "timeline__item--executed" in page


def test_each_reader_sees_their_own_parts_after_another_primed_the_page(
    make_proposal, ballot, post_vote, dev_accounts, admin_user, make_user, client
):
    proposal = make_proposal("single-choice", ["A", "B"])
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 2)).status_code == HTTPStatus.CREATED
    admin, voter = Client(), Client()
    admin.force_login(admin_user)
    make_user(dev_accounts[1].address, signed_in_client=voter)

    as_admin = _page(admin, proposal)  # primes the cache with the admin's page
    assert "Cancel proposal" in as_admin and "csrfmiddlewaretoken" in as_admin
    assert 'data-testid="vote-submit"' in as_admin and 'data-testid="my-vote"' not in as_admin
    anonymous = _page(client, proposal)
    assert "Cancel proposal" not in anonymous and "csrfmiddlewaretoken" not in anonymous
    assert 'data-testid="sign-in-to-vote"' in anonymous and 'data-testid="vote-submit"' not in anonymous
    assert 'data-testid="siwe-signin"' in anonymous and 'data-testid="voter-count">1<' in anonymous
    as_voter = _page(voter, proposal)
    assert 'data-testid="my-vote"' in as_voter and "Cancel proposal" not in as_voter
    assert 'data-testid="vote-submit"' in as_voter and 'data-testid="voter-count">1<' in as_voter
    again = _page(admin, proposal)
    assert "Cancel proposal" in again and 'data-testid="my-vote"' not in again


def test_the_page_is_served_when_redis_is_down(make_proposal, client, settings):
    proposal = make_proposal("basic", title="Raise the USDC cap")
    # The backend a deployment runs (portal.settings with REDIS_URL), its Redis refusing every connection.
    settings.CACHES = {"default": {"BACKEND": "portal.cache.DegradingRedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 1}}}
    for _ in range(2):
        page = _page(client, proposal)
        assert "Raise the USDC cap" in page and 'data-testid="tally"' in page


ESTABLISHED = timedelta(days=30)  # old enough for the normal comment rate limit


def _card(page: str) -> str:
    """The discussion card's HTML in the page."""
    start = page.index('data-testid="thread-embed"')
    return page[start:page.index("</section>", start)]


def test_each_write_to_the_discussion_shows_on_the_card_at_once(make_proposal, make_user, client):
    proposal = make_proposal("basic")
    author, moderator = Client(), Client()
    make_user(joined=ESTABLISHED, signed_in_client=author)
    make_user(joined=ESTABLISHED, groups=["moderators"], signed_in_client=moderator)
    assert "No comments yet." in _card(_page(client, proposal))  # primes the cache

    posted = author.post(f"/api/v1/threads/{proposal.thread_id}/comments", {"body": "Twice the **target**."},
                         content_type="application/json")
    assert posted.status_code == HTTPStatus.CREATED
    url = f"/discussion/comments/{posted.json()['id']}"
    card = _card(_page(client, proposal))
    assert "Twice the target." in card and "1 comment →" in card

    assert author.post(f"{url}/edit/", {"body": "Three times the target."}).status_code == HTTPStatus.FOUND
    card = _card(_page(client, proposal))
    assert "Three times the target." in card and "Twice" not in card

    hidden = moderator.post(f"{url}/hide/", {"hidden": "1", "note": "Off topic"})
    assert hidden.status_code == HTTPStatus.FOUND
    card = _card(_page(client, proposal))
    assert "Three times" not in card and "0 comments →" in card and "No comments yet." in card

    assert moderator.post(f"{url}/hide/", {"hidden": "0"}).status_code == HTTPStatus.FOUND
    assert "Three times the target." in _card(_page(client, proposal))

    assert author.post(f"{url}/delete/").status_code == HTTPStatus.FOUND
    card = _card(_page(client, proposal))
    assert "Three times" not in card and "0 comments →" in card


def test_a_hide_written_as_a_bare_update_shows_at_once(make_proposal, make_user, client):
    from portal.discussion.models import Comment
    from portal.discussion.services import comment_post

    proposal = make_proposal("basic")
    author = make_user(joined=ESTABLISHED)
    comment = comment_post(thread=proposal.thread, author=author, body="Something to hide.")
    assert "Something to hide." in _card(_page(client, proposal))
    Comment.objects.filter(pk=comment.pk).update(hidden=True)  # no `changed`, no service: the count moves
    assert "Something to hide." not in _card(_page(client, proposal))


def test_the_card_says_how_long_ago_as_it_is_read_while_served_from_the_cache(
    make_proposal, make_user, client, django_assert_num_queries
):
    from portal.discussion.services import comment_post

    proposal = make_proposal("basic")
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        comment_post(thread=proposal.thread, author=make_user(joined=ESTABLISHED), body="A fresh point.")
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        assert re.search(r">5\s+seconds ago<", _card(_page(client, proposal)))
    with time_machine.travel(start + timedelta(seconds=40), tick=False), django_assert_num_queries(1):
        # the same minute, so the same version: from the cache, its time put in words now
        assert re.search(r">40\s+seconds ago<", _card(_page(client, proposal)))


def test_a_signed_out_page_is_one_query_when_kept(make_proposal, ballot, post_vote, dev_accounts, client,
                                                   django_assert_num_queries):
    proposal = make_proposal("single-choice", ["A", "B"])
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 2)).status_code == HTTPStatus.CREATED
    _page(client, proposal)
    with django_assert_num_queries(1):  # the version; the parts, the card and the proposal: the cache
        page = _page(client, proposal)
    assert 'data-testid="voter-count">1<' in page and 'data-testid="sign-in-to-vote"' in page
    cache.clear()  # the shared copy gone: this process's own copy of the parts answers
    with django_assert_num_queries(1):
        again = _page(client, proposal)
    token = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')
    assert token.sub(r"\1", again) == token.sub(r"\1", page)  # the same page, but for the request's own token
    assert client.get("/proposals/424242/").status_code == HTTPStatus.NOT_FOUND


def test_a_signed_in_reader_gets_the_form_not_the_signed_out_card_kept_by_another(
    make_proposal, make_user, dev_accounts, client
):
    proposal = make_proposal("basic")
    assert 'data-testid="sign-in-to-vote"' in _page(client, proposal)  # primes the cache signed out
    member = Client()
    make_user(dev_accounts[3].address, signed_in_client=member)
    page = _page(member, proposal)
    assert 'data-testid="vote-submit"' in page and 'data-testid="sign-in-to-vote"' not in page
    assert 'data-testid="thread-embed"' in page


@pytest.mark.django_db(transaction=True)
def test_committed_writes_show_at_once_through_the_kept_sqlite_reader(
    make_proposal, ballot, post_vote, dev_accounts, make_user, client,
):
    """Outside a test transaction, as in a server: on SQLite the page's version is read through the process's
    kept-open reader connection, and each commit (a vote, a comment, a hide written as a bare update) still shows
    on the next request."""
    from django.db import connection

    from portal import cache as portal_cache
    from portal.discussion.models import Comment

    proposal = make_proposal("single-choice", ["A", "B"])
    portal_cache._readers.clear()  # so the check at the end is about this page's reads
    assert 'data-testid="voter-count">0<' in _page(client, proposal)
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 2)).status_code == HTTPStatus.CREATED
    assert 'data-testid="voter-count">1<' in _page(client, proposal)
    author = Client()
    make_user(joined=ESTABLISHED, signed_in_client=author)
    posted = author.post(f"/api/v1/threads/{proposal.thread_id}/comments", {"body": "Twice the **target**."},
                         content_type="application/json")
    assert posted.status_code == HTTPStatus.CREATED
    assert "Twice the target." in _card(_page(client, proposal))
    Comment.objects.filter(pk=posted.json()["id"]).update(hidden=True)
    assert "Twice the target." not in _card(_page(client, proposal))
    if connection.vendor == "sqlite":  # the reader it was about answered (on PostgreSQL the pool's connection does)
        assert portal_cache._readers


@pytest.mark.parametrize("number", [2**31, 2**63, 2**96])
def test_a_number_past_the_column_is_the_404_sentence(client, number):
    response = client.get(f"/proposals/{number}/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert f"There is no proposal LIP-{number}." in response.content.decode()


def _tokens(page: str) -> set[str]:
    return set(re.findall(r'"X-CSRFToken": "([A-Za-z0-9]{64})"', page)) | set(
        re.findall(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', page))


def test_signed_out_readers_get_the_whole_page_kept_each_with_a_working_token_of_their_own(
    make_proposal, django_assert_num_queries
):
    proposal = make_proposal("basic", title="Raise the USDC cap")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = [_page(first, proposal), _page(second, proposal)]  # the second from the page the first one's built
    tokens = [_tokens(page) for page in pages]
    assert all(len(found) == 1 for found in tokens) and tokens[0] != tokens[1]
    assert all("Raise the USDC cap" in page and "hole-" not in page for page in pages)
    answer = second.post("/status/subscribe/", {"email": "reader@example.org", "scope": "all",
                                                "csrfmiddlewaretoken": next(iter(tokens[1]))})
    assert answer.status_code == HTTPStatus.FOUND  # the token in its page is one its own cookie makes good
    with django_assert_num_queries(1):  # the version: page and layout come from the kept shell
        _page(Client(), proposal)


def test_the_kept_signed_out_page_is_the_page_the_template_renders(make_proposal, make_user, monkeypatch):
    from governance import views
    from portal.discussion.services import comment_post

    proposal = make_proposal("basic", title="Raise the USDC cap")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        comment_post(thread=proposal.thread, author=make_user(joined=ESTABLISHED), body="A fresh point.")
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        _page(Client(), proposal)  # builds the shell kept for signed-out readers
    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        served = _page(Client(), proposal)
        monkeypatch.setattr(views, "signed_out_reader", lambda request: False)
        rendered = _page(Client(), proposal)  # the same reader's page as the template renders it for them
    token = re.compile(r"[A-Za-z0-9]{64}")
    assert "A fresh point." in served and re.search(r">40\s+seconds ago<", served)  # the card's times are now's
    assert token.sub("TOKEN", served) == token.sub("TOKEN", rendered)


def test_a_query_string_is_rendered_for_its_reader(make_proposal):
    proposal = make_proposal("basic", title="Raise the USDC cap")
    client = Client()
    assert not hasattr(client.get(proposal.get_absolute_url()), "template_name")  # the kept shell, filled
    response = client.get(f"{proposal.get_absolute_url()}?utm_source=forum")  # no shell per made-up query
    assert response.status_code == HTTPStatus.OK and "Raise the USDC cap" in response.content.decode()
    assert response.template_name == "governance/detail.html"
