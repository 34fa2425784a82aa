"""`/ws/proposals/{number}/` through the real ASGI application: the tally arrives after a vote commits."""

from __future__ import annotations

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from governance.eip712 import SignedBallot
from governance.services import proposal_cancel, proposal_mark_executed, vote_cast
from portal.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.chain]

ORIGIN = [(b"origin", b"http://testserver")]


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    """sync_to_async runs the ORM in a worker thread: close its connection so the test database can be dropped."""
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def test_the_tally_and_voters_arrive_after_a_vote(make_proposal, ballot, dev_accounts):
    proposal = await sync_to_async(make_proposal)("single-choice", ["Keep", "Raise"])
    communicator = WebsocketCommunicator(application, f"/ws/proposals/{proposal.number}/", headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    body = ballot(dev_accounts[1], proposal, 2)
    signed = SignedBallot.from_fields(proposal=proposal.number, **body)
    await sync_to_async(vote_cast)(proposal=proposal, ballot=signed)
    message = await communicator.receive_from(timeout=10)
    assert 'id="tally"' in message and 'hx-swap-oob="true"' in message
    assert 'data-testid="weight-2">12,200.00<' in message
    assert 'id="voters"' in message and "Raise" in message
    # the socket is read-only: what a client sends is ignored
    await communicator.send_to(text_data='{"choice": "1"}')
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused(make_proposal):
    proposal = await sync_to_async(make_proposal)("basic")
    communicator = WebsocketCommunicator(
        application, f"/ws/proposals/{proposal.number}/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_cancelling_and_executing_reach_the_watchers(make_proposal, ballot, post_vote, dev_accounts, admin_user):
    proposal = await sync_to_async(make_proposal)("basic", hours=1)
    other = await sync_to_async(make_proposal)("basic", title="Another")
    await sync_to_async(post_vote)(proposal.number, ballot(dev_accounts[1], proposal, 1))
    watching = WebsocketCommunicator(application, f"/ws/proposals/{proposal.number}/", headers=ORIGIN)
    watching_other = WebsocketCommunicator(application, f"/ws/proposals/{other.number}/", headers=ORIGIN)
    assert (await watching.connect())[0] and (await watching_other.connect())[0]

    await sync_to_async(proposal_cancel)(proposal=other, actor=admin_user, reason="Duplicate.")
    assert 'id="tally"' in await watching_other.receive_from(timeout=10)
    with time_machine.travel(proposal.end.timestamp() + 60, tick=False):
        await sync_to_async(proposal_mark_executed)(proposal=proposal, actor=admin_user, tx_hash="0x" + "ab" * 32)
    message = await watching.receive_from(timeout=10)
    assert 'id="tally"' in message and 'data-testid="outcome"' in message and "Passed" in message
    assert await watching.receive_nothing(timeout=0.3)  # one update per write
    await watching.disconnect()
    await watching_other.disconnect()


async def test_a_burst_of_votes_sends_one_tally_rendered_once_after_the_window(
    make_proposal, ballot, dev_accounts, monkeypatch, settings
):
    import threading

    from governance import live

    # a window the three votes fit in even on a loaded machine (each takes ~0.1 s)
    monkeypatch.setitem(settings.PORTAL, "LIVE_TALLY_WINDOW_SECONDS", 2)
    renders, voting_threads = [], set()
    real_render, real_cast = live.tally_fragments, vote_cast
    monkeypatch.setattr(live, "tally_fragments", lambda number: renders.append(threading.get_ident()) or real_render(number=number))
    from portal import live as portal_live

    flags = []  # the shared cache is asked once per window, not once per vote: later commits see the process's own
    real_add = portal_live.cache.add
    monkeypatch.setattr(portal_live.cache, "add", lambda key, *a, **k: flags.append(key) or real_add(key, *a, **k))

    def cast(**kwargs):
        voting_threads.add(threading.get_ident())
        return real_cast(**kwargs)

    proposal = await sync_to_async(make_proposal)("single-choice", ["Keep", "Raise"])
    communicator = WebsocketCommunicator(application, f"/ws/proposals/{proposal.number}/", headers=ORIGIN)
    assert (await communicator.connect())[0]
    for account in dev_accounts[1:4]:
        signed = SignedBallot.from_fields(proposal=proposal.number, **ballot(account, proposal, 2))
        await sync_to_async(cast)(proposal=proposal, ballot=signed)
    message = await communicator.receive_from(timeout=10)
    # all three votes (12,200 + 3,100 + 800) in the one update, rendered once and not in a vote's request
    assert 'data-testid="weight-2">16,100.00<' in message
    assert len(renders) == 1 and not voting_threads & set(renders)
    assert [f for f in flags if f.startswith("live:")] == [f"live:coalesce:tally:{proposal.number}"]
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
