"""Votes racing a close, and a wallet's two first votes racing each other, on PostgreSQL (two threads, two
connections): every vote answered with a receipt is in the frozen tally, and nothing else is."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from governance import selectors
from governance.eip712 import SignedBallot
from governance.models import Proposal, ProposalTally, Vote
from governance.services import closing, votes
from governance.services.closing import proposal_close_if_due
from governance.services.votes import vote_cast
from portal.errors import Conflict

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.chain,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections are PostgreSQL's"),
]
WAIT = 30  # seconds before a missing signal fails the test


def _in_thread(target, *args):
    """Run `target` on its own thread and connection; returns (thread, outcome) where outcome gets "result" or
    "error"."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target(*args)
        except Exception as exc:  # the test reads what the thread raised
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.fixture
def ended(make_proposal, ballot, dev_accounts):
    """A basic proposal with one vote counted, whose end has just passed by the real clock; `cast(account)` casts
    a vote signed just before that end (as a request that checked the clock then would)."""
    proposal = make_proposal("basic")
    vote_cast(proposal=proposal, ballot=SignedBallot.from_fields(proposal=proposal.number,
                                                                 **ballot(dev_accounts[1], proposal, "1")))
    end = timezone.now() - timedelta(seconds=1)
    Proposal.objects.filter(pk=proposal.pk).update(start=end - timedelta(minutes=5), end=end)
    proposal = Proposal.objects.get(pk=proposal.pk)
    signed_at = int(end.timestamp()) - 5

    def cast(account):
        body = ballot(account, proposal, "2", timestamp=signed_at)
        return vote_cast(proposal=proposal, ballot=SignedBallot.from_fields(proposal=proposal.number, **body),
                         now=signed_at)

    proposal.cast = cast
    return proposal


def _tally_is_the_recount(proposal: Proposal) -> ProposalTally:
    frozen = ProposalTally.objects.get(proposal=proposal)
    state, voters = selectors.exact_state(proposal=proposal)
    assert (frozen.state, frozen.voters) == (state.to_json(), voters)
    return frozen


def test_a_vote_that_commits_while_the_close_recounts_is_in_the_frozen_tally(ended, dev_accounts, monkeypatch):
    recount = selectors.exact_state
    recounted, voted = threading.Event(), threading.Event()

    def recount_then_wait_for_the_vote(*, proposal):
        counted = recount(proposal=proposal)
        if not recounted.is_set():
            recounted.set()
            assert voted.wait(WAIT), "the vote did not commit"
        return counted

    monkeypatch.setattr(closing.selectors, "exact_state", recount_then_wait_for_the_vote)
    close, closed = _in_thread(lambda: proposal_close_if_due(proposal=ended))
    assert recounted.wait(WAIT), f"the close did not recount: {closed}"
    vote = ended.cast(dev_accounts[2])  # commits between the close's first recount and its tally lock
    voted.set()
    close.join(WAIT)
    assert closed == {"result": True}
    frozen = _tally_is_the_recount(ended)
    assert frozen.voters == 2
    assert Vote.objects.get(proposal=ended, voter=vote.voter).receipt == vote.receipt


def test_a_vote_that_reaches_the_tally_after_the_close_committed_is_refused(ended, dev_accounts, monkeypatch):
    fold = votes._tally_fold
    written, closed = threading.Event(), threading.Event()

    def wait_for_the_close(*args):
        written.set()  # the vote's row is written (uncommitted); the tally lock is next
        assert closed.wait(WAIT), "the close did not commit"
        return fold(*args)

    monkeypatch.setattr(votes, "_tally_fold", wait_for_the_close)
    vote, outcome = _in_thread(ended.cast, dev_accounts[2])
    assert written.wait(WAIT), f"the vote did not reach its tally lock: {outcome}"
    assert proposal_close_if_due(proposal=ended)
    closed.set()
    vote.join(WAIT)
    assert isinstance(outcome.get("error"), Conflict), outcome
    assert str(outcome["error"]) == f"Voting on {ended.label} closed at {ended.end:%Y-%m-%d %H:%M} UTC."
    assert not Vote.objects.filter(proposal=ended, voter=dev_accounts[2].address).exists()
    assert _tally_is_the_recount(ended).voters == 1


def test_a_wallets_two_first_votes_at_once_leave_the_later_one_counted_once(
    make_proposal, ballot, dev_accounts, monkeypatch
):
    proposal = make_proposal("basic")
    account = dev_accounts[3]
    first = SignedBallot.from_fields(proposal=proposal.number, **ballot(account, proposal, "1"))
    later = SignedBallot.from_fields(proposal=proposal.number, **ballot(account, proposal, "3",
                                                                        timestamp=first.timestamp + 1))
    both_looked = threading.Barrier(2, timeout=WAIT)
    clean = Vote.full_clean
    seen = threading.local()

    def after_both_looked(self, *args, **kwargs):
        if not getattr(seen, "met", False):  # the first attempt: neither found an earlier vote
            seen.met = True
            both_looked.wait()
        return clean(self, *args, **kwargs)

    monkeypatch.setattr(Vote, "full_clean", after_both_looked)
    threads = [_in_thread(lambda b: vote_cast(proposal=proposal, ballot=b), b) for b in (first, later)]
    for thread, _ in threads:
        thread.join(WAIT)
    outcomes = [outcome for _, outcome in threads]
    assert "result" in outcomes[1], outcomes  # the later one is counted, whichever inserted first
    assert "result" in outcomes[0] or isinstance(outcomes[0].get("error"), Conflict), outcomes
    (stored,) = Vote.objects.filter(proposal=proposal)
    assert (stored.choice, stored.timestamp) == ("3", later.timestamp)
    assert _tally_is_the_recount(proposal).voters == 1
