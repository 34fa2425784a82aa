"""The recount file as served: streamed while a proposal can change, computed once and stored after its close."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from ninja.renderers import JSONRenderer

from governance import exports, services
from governance.exports import export_chunks, proposal_export
from governance.models import Proposal, ProposalExport
from governance.recount import recount
from governance.schemas import RecountFileOut
from portal.effects.models import Effect

pytestmark = [pytest.mark.chain]


def _as_the_api_wrote_it(export: dict) -> bytes:
    """What the endpoint answered before it streamed: the dict through its schema and django-ninja's renderer."""
    dumped = RecountFileOut.model_validate(export).model_dump()
    return JSONRenderer().render(None, dumped, response_status=HTTPStatus.OK).encode()


@pytest.fixture
def voted(make_proposal, ballot, post_vote, dev_accounts):
    proposal = make_proposal("basic", quorum="1")
    for account, choice in zip(dev_accounts[1:5], (1, 2, 1, 3), strict=True):
        body = ballot(account, proposal, choice, reason=f"Because “{choice}” — ünïcode & <tags>")
        assert post_vote(proposal.number, body).status_code == HTTPStatus.CREATED
    return proposal


def _closed(proposal: Proposal, capture) -> Proposal:
    """Record the close as the sampler's tick does (the clock is past the end when this is called), with the
    effects it queues run after its commit."""
    with capture(execute=True):
        assert services.proposals_close_due() == 1
    return Proposal.objects.get(pk=proposal.pk)


@pytest.mark.django_db
def test_an_open_proposal_streams_the_bytes_the_endpoint_wrote_before(voted, get_export):
    with time_machine.travel(voted.start + timedelta(minutes=5), tick=False):
        response, body = get_export(voted.number)
        expected = _as_the_api_wrote_it(proposal_export(proposal=voted))
        pieces = list(export_chunks(proposal=voted, batch=1))
    assert response.status_code == HTTPStatus.OK and response.streaming
    assert response["Content-Type"] == "application/json"
    assert body == expected
    assert len(pieces) == 1 + 4 + 1 and b"".join(pieces) == expected  # the head, one piece a batch, the end
    assert not ProposalExport.objects.exists()  # nothing is stored while votes can change


@pytest.mark.django_db
def test_a_proposal_without_votes_streams_an_empty_list(make_proposal, get_export):
    proposal = make_proposal("approval", ["A", "B"])
    with time_machine.travel(proposal.start + timedelta(minutes=5), tick=False):
        _, body = get_export(proposal.number)
        assert body == _as_the_api_wrote_it(proposal_export(proposal=proposal))
    assert json.loads(body)["votes"] == []


@pytest.mark.django_db
def test_a_closed_proposal_is_stored_at_its_close_and_then_served_without_a_recount(
    voted, get_export, django_assert_num_queries, django_capture_on_commit_callbacks, anvil_url
):
    with time_machine.travel(voted.end + timedelta(minutes=1), tick=False):
        _, before_close = get_export(voted.number)  # closed by the clock, close not recorded: streamed, not stored
        assert not ProposalExport.objects.exists()
        proposal = _closed(voted, django_capture_on_commit_callbacks)
        stored = ProposalExport.objects.get()  # stored by the close's own effect, before anyone asked
        first, body = get_export(proposal.number)
        fresh = _as_the_api_wrote_it(proposal_export(proposal=proposal))
        assert first.status_code == HTTPStatus.OK and not first.streaming
        assert body == fresh == before_close  # the same clock: the stored file is a fresh recount, byte for byte
        assert bytes(stored.body) == body and stored.size == len(body) == int(first["Content-Length"])
        assert first["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"' == f'"{stored.sha256}"'

        with CaptureQueriesContext(connections["default"]) as queries, django_assert_num_queries(2):
            again, same = get_export(proposal.number)  # the proposal, the stored copy: no vote is read
        assert same == body and again["ETag"] == first["ETag"]
        assert not any("governance_vote" in q["sql"] for q in queries.captured_queries)
        unchanged, _ = get_export(proposal.number, HTTP_IF_NONE_MATCH=first["ETag"])
        assert unchanged.status_code == HTTPStatus.NOT_MODIFIED
        assert ProposalExport.objects.count() == 1

        report = recount(json.loads(body), rpc_url=anvil_url)  # the stored file recounts from the chain alone
        assert report.matches, report.differences
        out = io.StringIO()
        call_command("verify_proposal", str(proposal.number), stdout=out)  # reads the stored file
        assert "MATCH: the recount of" in out.getvalue()
        assert ProposalExport.objects.count() == 1


@pytest.mark.django_db
def test_a_get_never_writes_the_file_of_a_closed_proposal_not_stored_yet(voted, get_export):
    with time_machine.travel(voted.end + timedelta(minutes=1), tick=False):
        assert services.proposals_close_due() == 1  # its storing effect is queued, not run (no worker here)
        proposal = Proposal.objects.get(pk=voted.pk)
        effects = Effect.objects.count()
        response, body = get_export(proposal.number)
        assert response.status_code == HTTPStatus.OK and response.streaming
        assert body == _as_the_api_wrote_it(proposal_export(proposal=proposal))
    assert not ProposalExport.objects.exists() and Effect.objects.count() == effects


@pytest.mark.django_db
def test_an_execution_after_the_close_stores_a_new_file(
    voted, get_export, admin_user, django_capture_on_commit_callbacks
):
    with time_machine.travel(voted.end + timedelta(minutes=1), tick=False):
        proposal = _closed(voted, django_capture_on_commit_callbacks)
        _, closed = get_export(proposal.number)
        with django_capture_on_commit_callbacks(execute=True):
            services.proposal_mark_executed(proposal=proposal, actor=admin_user, tx_hash="0x" + "ab" * 32)
        executed_response, executed = get_export(proposal.number)
    assert json.loads(closed)["proposal"]["state"] == "closed"
    assert json.loads(executed)["proposal"]["state"] == "executed" and not executed_response.streaming
    assert json.loads(executed)["votes"] == json.loads(closed)["votes"]
    (stored,) = ProposalExport.objects.all()  # the stale copy went with it
    assert bytes(stored.body) == executed


@pytest.mark.django_db
def test_a_cancel_after_the_close_stores_a_new_file(voted, get_export, admin_user, django_capture_on_commit_callbacks):
    with time_machine.travel(voted.end + timedelta(minutes=1), tick=False):
        proposal = _closed(voted, django_capture_on_commit_callbacks)
        _, closed = get_export(proposal.number)
        with django_capture_on_commit_callbacks(execute=True):
            services.proposal_cancel(proposal=proposal, actor=admin_user, reason="The oracle was wrong.")
        cancelled_response, cancelled = get_export(proposal.number)
    assert (json.loads(closed)["proposal"]["state"], json.loads(cancelled)["proposal"]["state"]) == (
        "closed", "cancelled")
    assert not cancelled_response.streaming
    (stored,) = ProposalExport.objects.all()
    assert bytes(stored.body) == cancelled


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_store_at_once_store_one_file_and_the_api_serves_it(voted, monkeypatch, settings):
    compute = exports.export_chunks
    both_computing = threading.Barrier(2, timeout=30)

    def computed_side_by_side(*, proposal, **kwargs):
        pieces = list(compute(proposal=proposal, **kwargs))
        both_computing.wait()  # neither stores before the other has its own copy, with its own exported_at
        return iter(pieces)

    Proposal.objects.filter(pk=voted.pk).update(end=timezone.now() - timedelta(seconds=1))  # ended by the real clock
    settings.PORTAL = {**settings.PORTAL, "EFFECTS_EAGER": False}  # the close's own attempt stays queued
    assert services.proposals_close_due() == 1
    monkeypatch.setattr(exports, "export_chunks", computed_side_by_side)
    errors: list = []

    def store() -> None:
        try:
            exports.export_store(proposal_id=voted.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=store) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    (stored,) = ProposalExport.objects.all()
    response = Client().get(f"/api/v1/proposals/{voted.number}/export")
    assert response.status_code == HTTPStatus.OK and response.content == bytes(stored.body)
