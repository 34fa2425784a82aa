"""Pinned query counts (as Zulip pins them): the write path, the thread page and the thread API. A change that adds
a query per comment, or a new query anywhere, fails here and has to say why."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from portal.discussion.models import Comment
from portal.discussion.services import comment_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def debate(thread, member, other_member):
    """A thread with a comment and a reply to it."""
    first = comment_post(thread=thread, author=other_member, body="Keep the **reserve factor**")
    comment_post(thread=thread, author=member, body="Agreed", parent=first)
    return thread


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_comment_post_costs_nine_queries(debate, member, django_assert_num_queries):
    parent = Comment.objects.filter(thread=debate, parent__isnull=True).get()
    # savepoint, sanctions, thread FOR UPDATE, insert, its search entry (one upsert), thread activity, the reply
    # notice's task and ledger row (portal.effects), release
    with django_assert_num_queries(9):
        comment_post(thread=debate, author=member, body="One more thought", parent=parent)
    assert Comment.objects.filter(thread=debate).count() == 3


@pytest.mark.parametrize("more_comments", [0, 10])
def test_the_thread_page_costs_the_same_queries_for_any_number_of_comments(
    debate, member, other_member, more_comments, django_assert_num_queries
):
    for n in range(more_comments):
        comment_post(thread=debate, author=other_member if n % 2 else member, body=f"Point {n}")
    client = _signed_in(member)
    # session, user, the middleware's suspension check, groups (roles), thread, comments with their authors,
    # the composer's posting refusal, the bell's unread count
    with django_assert_num_queries(8):
        page = client.get(debate.get_absolute_url())
    assert page.status_code == HTTPStatus.OK and "Keep the <strong>reserve factor</strong>" in page.content.decode()


@pytest.mark.parametrize("more_comments", [0, 10])
def test_the_thread_api_costs_the_same_queries_for_any_number_of_comments(
    debate, member, other_member, more_comments, django_assert_num_queries
):
    for n in range(more_comments):
        comment_post(thread=debate, author=other_member, body=f"Point {n}")
    client = _signed_in(member)
    # session, user, suspension check, thread, groups (roles: may this viewer see it), a page of comments with
    # their authors, the count of visible comments
    with django_assert_num_queries(7):
        answer = client.get(f"/api/v1/threads/{debate.pk}")
    assert answer.status_code == HTTPStatus.OK and len(answer.json()["items"]) == 2 + more_comments
