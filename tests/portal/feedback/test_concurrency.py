"""Votes under concurrent requests: real threads, each with its own database connection (SQLite waits for the write
lock; PostgreSQL locks the post row and the unique constraint backs it up)."""

import threading
from http import HTTPStatus

import pytest
from django.db import connection

from portal.accounts.models import User
from portal.feedback import services
from portal.feedback.models import Post, Vote
from portal.errors import Refusal

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(calls) -> list:
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Refusal as error:
            outcomes[index] = error.status
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_the_same_account_voting_at_once_counts_exactly_once():
    author, voter = User.objects.create(username="author"), User.objects.create(username="voter")
    post = services.post_create(author=author, kind="idea", title="Concurrent", body="")
    outcomes = run_concurrently([lambda: services.vote_add(post=post, user=voter)] * 6)
    assert sorted(o for o in outcomes if o != 1) == [HTTPStatus.CONFLICT] * 5, outcomes
    assert outcomes.count(1) == 1, outcomes
    assert Vote.objects.filter(post=post).count() == 1 and Post.objects.get(pk=post.pk).vote_count == 1


def test_many_accounts_voting_and_toggling_at_once_keep_the_count_exact():
    author = User.objects.create(username="author")
    voters = [User.objects.create(username=f"voter{i}") for i in range(8)]
    post = services.post_create(author=author, kind="idea", title="Concurrent", body="")
    outcomes = run_concurrently([lambda v=v: services.vote_toggle(post=post, user=v) for v in voters])
    assert all(isinstance(o, tuple) and o[0] for o in outcomes), outcomes
    assert sorted(o[1] for o in outcomes) == list(range(1, 9))  # every count seen exactly once: serialised
    assert Post.objects.get(pk=post.pk).vote_count == 8 == Vote.objects.filter(post=post).count()
    # Half of them take their vote back while the other half toggle twice (net zero) at the same time.
    calls = [lambda v=v: services.vote_toggle(post=post, user=v) for v in voters[:4]]
    calls += [lambda v=v: services.vote_toggle(post=post, user=v) for v in voters[4:] for _ in range(2)]
    outcomes = run_concurrently(calls)
    assert not [o for o in outcomes if not isinstance(o, tuple)], outcomes
    assert Post.objects.get(pk=post.pk).vote_count == 4 == Vote.objects.filter(post=post).count()
    assert set(Vote.objects.filter(post=post).values_list("user__username", flat=True)) == {
        "voter4", "voter5", "voter6", "voter7"
    }
