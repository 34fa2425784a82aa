"""The recount file and `verify_proposal`: from the file and an RPC endpoint alone."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command

from governance.models import Vote
from governance.recount import FORMAT

pytestmark = [pytest.mark.django_db, pytest.mark.chain]


@pytest.fixture
def voted(make_proposal, ballot, post_vote, dev_accounts):
    proposal = make_proposal("ranked-choice", ["Alpha", "Beta", "Gamma"], quorum="100")
    for account, ranking in zip(dev_accounts[1:4], ([1, 2, 3], [2, 1, 3], [3, 2, 1]), strict=True):
        assert post_vote(proposal.number, ballot(account, proposal, ranking)).status_code == HTTPStatus.CREATED
    return proposal


def test_export_holds_the_proposal_domain_result_and_every_signed_vote(voted, client):
    export = client.get(f"/api/v1/proposals/{voted.number}/export").json()
    assert export["format"] == FORMAT
    assert export["proposal"]["voting_type"] == "ranked-choice"
    assert export["proposal"]["snapshot_block"] == voted.snapshot_block
    assert export["proposal"]["strategies"][0]["address"].startswith("0x")
    assert set(export["eip712"]) == {"domain", "types", "primaryType"}
    assert len(export["votes"]) == 3
    assert set(export["votes"][0]) == {"voter", "choice", "reason", "timestamp", "signature", "receipt", "weight"}
    assert export["result"]["voters"] == 3


def test_verify_proposal_matches_from_the_database_and_from_the_file_with_an_rpc(voted, client, tmp_path, anvil_url):
    out = io.StringIO()
    call_command("verify_proposal", str(voted.number), stdout=out)
    assert "MATCH" in out.getvalue() and "MISMATCH" not in out.getvalue()

    path = tmp_path / "recount.json"
    path.write_text(client.get(f"/api/v1/proposals/{voted.number}/export").content.decode())
    out = io.StringIO()
    call_command("verify_proposal", str(voted.number), "--from-file", str(path), "--rpc", anvil_url, stdout=out)
    assert "MATCH: the recount of" in out.getvalue()
    assert "signatures [" in out.getvalue() and "weights" in out.getvalue()  # the progress bar


def test_verify_proposal_reports_an_altered_weight(voted):
    vote = Vote.objects.filter(proposal=voted).order_by("id").first()
    vote.weight = str(Decimal(vote.weight) + 1000)
    vote.save()
    out = io.StringIO()
    with pytest.raises(CommandError, match="does not match"):
        call_command("verify_proposal", str(voted.number), stdout=out)
    assert "MISMATCH" in out.getvalue()
    assert f"{vote.voter}: the portal counted weight {vote.weight}" in out.getvalue()


def test_verify_proposal_reports_a_forged_signature_in_the_file(voted, client, tmp_path):
    export = client.get(f"/api/v1/proposals/{voted.number}/export").json()
    export["votes"][0]["choice"] = "[3,2,1]"  # the signature no longer covers this choice
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(export))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_proposal", str(voted.number), "--from-file", str(path), stdout=out)
    assert "the signature does not verify" in out.getvalue()


def test_verify_proposal_refuses_a_file_of_another_proposal(voted, tmp_path, client):
    path = tmp_path / "recount.json"
    path.write_text(client.get(f"/api/v1/proposals/{voted.number}/export").content.decode())
    with pytest.raises(CommandError, match="not LIP-99"):
        call_command("verify_proposal", "99", "--from-file", str(path), stdout=io.StringIO())


def test_demo_seed_is_idempotent_and_its_closed_proposal_recounts(contracts, db):
    from governance import demo
    from governance.models import Proposal
    from portal.accounts import demo as accounts_demo

    accounts_demo.seed(stdout=io.StringIO())
    demo.seed(stdout=io.StringIO())
    demo.seed(stdout=io.StringIO())
    proposals = {p.title: p for p in Proposal.objects.all()}
    assert len(proposals) == 3
    states = sorted((p.voting_type, p.state) for p in proposals.values())
    assert states == [("basic", "active"), ("ranked-choice", "active"), ("weighted", "closed")]
    assert all(p.thread_id and p.votes.count() >= 3 for p in proposals.values())
    closed = proposals[demo.GRANTS_SPLIT]
    out = io.StringIO()
    call_command("verify_proposal", str(closed.number), stdout=out)
    assert "MATCH" in out.getvalue()


def test_at_close_the_published_result_is_exactly_the_recount(make_proposal, ballot, post_vote, dev_accounts, client):
    import time_machine

    proposal = make_proposal("quadratic", ["A", "B", "C"], quorum="1")
    for account, split in zip(dev_accounts[1:5], ({"1": 3, "2": 1}, {"2": 7}, {"1": 1, "3": 2}, {"3": 1}), strict=True):
        post_vote(proposal.number, ballot(account, proposal, split))
    with time_machine.travel(proposal.end.timestamp() + 60, tick=False):
        published = client.get(f"/api/v1/proposals/{proposal.number}/results").json()
        export = client.get(f"/api/v1/proposals/{proposal.number}/export").json()
    assert [c["weight"] for c in published["choices"]] == [c["weight"] for c in export["result"]["choices"]]
    assert published["outcome"] == export["result"]["outcome"]
