"""Reads never write: a proposal past its end reads as closed with its exact result before the sampler records the
close. Query counts of the main reads and of `vote_cast` are pinned."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine

from governance import services
from governance.eip712 import SignedBallot
from governance.models import Proposal, ProposalEvent, ProposalTally, Vote
from governance.selectors import proposal_recount
from governance.services.weights import snapshot_weights_preread
from portal.notifications.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.chain]

READS = ("", "/results", "/votes", "/export")


def _written(proposal) -> tuple:
    """Everything a recorded close would change."""
    tally = ProposalTally.objects.get(proposal=proposal)
    return (
        Proposal.objects.get(pk=proposal.pk).close_recorded_at,
        ProposalEvent.objects.filter(proposal=proposal).count(),
        (tally.state, tally.voters, tally.updated),
        Notification.objects.count(),
    )


def test_reading_a_proposal_past_its_end_writes_nothing_and_shows_the_exact_result(
    make_proposal, ballot, post_vote, dev_accounts, client, make_user
):
    make_user(dev_accounts[1].address)  # a voter who would be notified by a recorded close
    proposal = make_proposal("quadratic", ["A", "B", "C"], quorum="1")
    for account, split in zip(dev_accounts[1:4], ({"1": 3, "2": 1}, {"2": 7}, {"1": 1, "3": 2}), strict=True):
        assert post_vote(proposal.number, ballot(account, proposal, split)).status_code == HTTPStatus.CREATED
    with time_machine.travel(proposal.end + timedelta(minutes=1), tick=False):
        before = _written(proposal)
        page = client.get(proposal.get_absolute_url())
        assert page.status_code == HTTPStatus.OK and 'data-testid="outcome"' in page.content.decode()
        for tail in READS:
            assert client.get(f"/api/v1/proposals/{proposal.number}{tail}").status_code == HTTPStatus.OK
        assert client.get("/api/v1/proposals?state=closed").json()["count"] == 1
        assert _written(proposal) == before
        results = client.get(f"/api/v1/proposals/{proposal.number}/results").json()
        assert results["state"] == "closed" and results["outcome"] == "passed"
        exact = proposal_recount(proposal=proposal)
        assert [Decimal(c["weight"]) for c in results["choices"]] == exact.scores
        # the sampler's tick records it; the published numbers do not move
        assert services.proposals_close_due() == 1
        assert client.get(f"/api/v1/proposals/{proposal.number}/results").json() == results
    assert ProposalEvent.objects.filter(proposal=proposal, kind="closed").count() == 1


def test_the_proposal_page_query_count_is_pinned(
    make_proposal, ballot, post_vote, dev_accounts, client, django_assert_num_queries, make_user
):
    proposal = make_proposal("single-choice", ["A", "B"])
    post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))
    # the page's version (the proposal's row, its tally, events, votes and discussion card's comments), then,
    # built: the proposal with its tally, the voters, the timeline, the discussion's latest comments, their count
    with django_assert_num_queries(6):
        assert client.get(proposal.get_absolute_url()).status_code == HTTPStatus.OK
    with django_assert_num_queries(1):  # the same version: the parts and the proposal come from the cache
        assert client.get(proposal.get_absolute_url()).status_code == HTTPStatus.OK
    client.force_login(make_user(dev_accounts[2].address))
    # + the session, the user, their sanctions, wallets, own vote, groups (the actions) and unread notifications
    with django_assert_num_queries(8):
        assert client.get(proposal.get_absolute_url()).status_code == HTTPStatus.OK


def test_the_proposal_list_api_query_count_is_pinned(make_proposal, client, django_assert_num_queries):
    for i in range(3):
        make_proposal("basic", title=f"Open {i}")
    make_proposal("basic", title="A draft", activate=False)
    with django_assert_num_queries(2):  # the count and one page of proposals with their tallies
        answer = client.get("/api/v1/proposals").json()
    assert answer["count"] == 4 and len(answer["items"]) == 4


def test_the_vote_list_api_query_count_is_pinned(make_proposal, client, django_assert_num_queries):
    proposal = make_proposal("basic")
    Vote.objects.bulk_create(
        Vote(proposal=proposal, voter=f"0x{i:040x}", choice="1", timestamp=int(time.time()), signature="0x",
             receipt="0x", weight=str(i), weight_sort=float(i))
        for i in range(1, 31)
    )
    with django_assert_num_queries(3):  # the proposal, one page of votes, the count
        answer = client.get(f"/api/v1/proposals/{proposal.number}/votes?page_size=20").json()
    assert answer["count"] == 30 and len(answer["items"]) == 20 and answer["items"][0]["weight"] == "30"


def test_vote_cast_query_count_is_pinned(make_proposal, ballot, dev_accounts, django_assert_num_queries):
    proposal = make_proposal("approval", ["A", "B", "C"])
    snapshot_weights_preread(proposal_id=proposal.pk)  # the task queued when voting opened
    first = SignedBallot.from_fields(proposal=proposal.number, **ballot(dev_accounts[1], proposal, [1, 2]))
    # savepoint, the stored snapshot weight with the earlier vote FOR UPDATE and whether any webhook is active (one
    # query; none is, so the webhooks listening for vote.cast are not asked), insert, then last the tally FOR UPDATE
    # and the tally update (whose RETURNING reads the proposal's close and cancel again, under the lock), release
    with django_assert_num_queries(6):
        services.vote_cast(proposal=proposal, ballot=first)
    again = SignedBallot.from_fields(
        proposal=proposal.number, **ballot(dev_accounts[1], proposal, [3], timestamp=first.timestamp + 1)
    )
    with django_assert_num_queries(6):  # a replacement costs the same
        services.vote_cast(proposal=proposal, ballot=again)
    assert Vote.objects.get(proposal=proposal).choice == "[3]"


def test_the_proposal_a_vote_reads_is_the_row_the_orm_reads(make_proposal, django_assert_num_queries):
    """The vote's proposal read (its query compiled once, the database's converters applied by hand) gives the same
    field values and types as the ORM: datetimes aware, choices and strategies as JSON; a number no proposal or
    column holds is a 404 sentence, not a database error."""
    from governance.selectors import proposal_to_vote_on
    from portal.errors import NotFound

    proposal = make_proposal("approval", ["A", "B", "C"])
    with django_assert_num_queries(1):
        read = proposal_to_vote_on(number=proposal.number)
    expected = Proposal.objects.get(pk=proposal.pk)
    for field in Proposal._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
        assert type(getattr(read, field.attname)) is type(getattr(expected, field.attname)), field.name
    assert read.start.tzinfo is not None and read.choices == ["A", "B", "C"] and not read._state.adding
    for number in (proposal.number + 1000, 2**96):
        with pytest.raises(NotFound, match=f"There is no proposal LIP-{number}."):
            proposal_to_vote_on(number=number)
