"""Pinned query counts (as Zulip pins them): the vote, over htmx and as a plain form, and the feedback API list."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from portal.feedback import services
from portal.feedback.models import Vote

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_vote_over_htmx_costs_thirteen_queries(idea, bob, django_assert_num_queries):
    client = _signed_in(bob)
    # session, user, suspension check, post; savepoint, post FOR UPDATE, delete (none), savepoint, insert, release,
    # recount, new count, release
    with django_assert_num_queries(13):
        answer = client.post(f"/feedback/{idea.pk}/vote/", HTTP_HX_REQUEST="true")
    assert answer.status_code == HTTPStatus.OK and 'data-testid="vote-count">1<' in answer.content.decode()
    assert Vote.objects.filter(post=idea, user=bob).exists()


def test_taking_a_vote_back_costs_ten_queries(idea, bob, django_assert_num_queries):
    services.vote_add(post=idea, user=bob)
    client = _signed_in(bob)
    # session, user, suspension check, post; savepoint, post FOR UPDATE, delete, recount, new count, release
    with django_assert_num_queries(10):
        answer = client.post(f"/feedback/{idea.pk}/vote/")
    assert answer.status_code == HTTPStatus.FOUND and not Vote.objects.filter(post=idea).exists()


@pytest.mark.parametrize("more_posts", [0, 10])
def test_the_feedback_api_costs_the_same_queries_for_any_number_of_posts(
    idea, alice, bob, more_posts, django_assert_num_queries
):
    for n in range(more_posts):
        services.post_create(author=alice if n % 2 else bob, kind="bug", title=f"Bug {n}", body="Steps")
    client = _signed_in(bob)
    # session, user, suspension check, posts with their authors, their tags, the count
    with django_assert_num_queries(6):
        answer = client.get("/api/v1/feedback")
    assert answer.status_code == HTTPStatus.OK and answer.json()["count"] == 1 + more_posts
