"""Governance webhooks like Snapshot's: proposal created, started, ended, cancelled, executed and vote cast reach a
real receiver, signed, only when it subscribed to governance; a vote's webhook is queued with the vote."""

from __future__ import annotations

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.utils import timezone

from governance import services
from portal.health.models import Webhook
from tests.webhook_receiver import verify

pytestmark = pytest.mark.django_db


def _events(receiver) -> list[tuple[str, dict]]:
    return [(headers["X-Portal-Event"], json.loads(body)) for headers, body in receiver.requests]


def test_a_proposal_s_life_reaches_a_governance_webhook(make_proposal, admin_user, ballot, post_vote, dev_accounts,
                                                         receiver, run_effects):
    hook = Webhook.objects.create(url=receiver.url, topics=["governance"])
    Webhook.objects.create(url=receiver.url)  # the status page's topics only: hears none of this
    proposal = make_proposal("basic")
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1, reason="Safer")).status_code == \
        HTTPStatus.CREATED
    run_effects()
    with time_machine.travel(proposal.end + timedelta(minutes=1), tick=False):
        assert services.proposals_close_due() == 1
        services.proposal_mark_executed(proposal=proposal, actor=admin_user, tx_hash="0x" + "ab" * 32)
        run_effects()
    events = _events(receiver)
    assert [name for name, _ in events] == ["proposal.created", "proposal.started", "vote.cast", "proposal.ended",
                                            "proposal.executed"]
    assert all(verify(hook.secret, headers, body) for headers, body in receiver.requests)
    created, started, vote, ended, executed = (payload for _, payload in events)
    assert created["proposal"]["number"] == proposal.number and created["proposal"]["api"] == \
        f"/api/v1/proposals/{proposal.number}"
    assert vote["vote"]["voter"] == dev_accounts[1].address and vote["vote"]["reason"] == "Safer"
    assert vote["vote"]["choice"] == "1" and vote["vote"]["receipt"].startswith("0x")
    assert ended["outcome"] == "passed" and ended["voters"] == 1
    assert executed["execution_tx"] == "0x" + "ab" * 32 and executed["proposal"]["state"] == "executed"


def test_voting_that_opens_later_announces_its_start_when_it_starts(make_proposal, admin_user, receiver, run_effects):
    Webhook.objects.create(url=receiver.url, topics=["governance"])
    draft = make_proposal("basic", activate=False)
    draft.start = timezone.now() + timedelta(hours=2)
    draft.save(update_fields=["start"])
    proposal = services.proposal_activate(proposal=draft, actor=admin_user)
    run_effects()
    assert [name for name, _ in _events(receiver)] == ["proposal.created"]
    with time_machine.travel(proposal.start + timedelta(seconds=1), tick=False):
        run_effects()
    assert [name for name, _ in _events(receiver)] == ["proposal.created", "proposal.started"]


def test_a_cancelled_proposal_says_so_and_never_starts(make_proposal, admin_user, receiver, run_effects):
    Webhook.objects.create(url=receiver.url, topics=["governance"])
    draft = make_proposal("basic", activate=False)
    draft.start = timezone.now() + timedelta(hours=2)
    draft.save(update_fields=["start"])
    proposal = services.proposal_activate(proposal=draft, actor=admin_user)
    services.proposal_cancel(proposal=proposal, actor=admin_user, reason="Duplicate of LIP-1.")
    with time_machine.travel(proposal.start + timedelta(seconds=1), tick=False):
        run_effects()
    events = _events(receiver)
    assert [name for name, _ in events] == ["proposal.created", "proposal.cancelled"]
    assert events[1][1]["reason"] == "Duplicate of LIP-1." and events[1][1]["proposal"]["state"] == "cancelled"
