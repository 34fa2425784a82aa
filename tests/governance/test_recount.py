"""The recount file and `verify_proposal`: from the file and an RPC endpoint alone."""

from __future__ import annotations

import io
import json
import time
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine
from django.core.management import CommandError, call_command

from governance import demo, services
from governance.models import Proposal, Vote
from governance.recount import FORMAT
from governance.voting import voting_method
from portal.accounts import demo as accounts_demo
from tests.oracles.snapshot import assert_matches_snapshot, snapshot_case, snapshot_scores

pytestmark = [pytest.mark.django_db, pytest.mark.chain]


@pytest.fixture
def voted(make_proposal, ballot, post_vote, dev_accounts):
    proposal = make_proposal("ranked-choice", ["Alpha", "Beta", "Gamma"], quorum="100")
    for account, ranking in zip(dev_accounts[1:4], ([1, 2, 3], [2, 1, 3], [3, 2, 1]), strict=True):
        assert post_vote(proposal.number, ballot(account, proposal, ranking)).status_code == HTTPStatus.CREATED
    return proposal


def test_export_holds_the_proposal_domain_result_and_every_signed_vote(voted, client, get_export):
    export = json.loads(get_export(voted.number)[1])
    assert export["format"] == FORMAT
    assert export["proposal"]["voting_type"] == "ranked-choice"
    assert export["proposal"]["snapshot_block"] == voted.snapshot_block
    assert export["proposal"]["strategies"][0]["address"].startswith("0x")
    assert set(export["eip712"]) == {"domain", "types", "primaryType"}
    assert len(export["votes"]) == 3
    assert set(export["votes"][0]) == {"voter", "choice", "reason", "timestamp", "signature", "receipt", "weight",
                                       "signer", "verified_block", "verified_block_hash"}
    assert (export["votes"][0]["signer"], export["votes"][0]["verified_block"]) == ("eoa", None)
    assert export["result"]["voters"] == 3


def test_verify_proposal_matches_from_the_database_and_from_the_file_with_an_rpc(voted, client, tmp_path, anvil_url, get_export):
    out = io.StringIO()
    call_command("verify_proposal", str(voted.number), stdout=out)
    assert "MATCH" in out.getvalue() and "MISMATCH" not in out.getvalue()

    path = tmp_path / "recount.json"
    path.write_text(get_export(voted.number)[1].decode())
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


def test_verify_proposal_reports_a_forged_signature_in_the_file(voted, client, tmp_path, get_export):
    export = json.loads(get_export(voted.number)[1])
    export["votes"][0]["choice"] = "[3,2,1]"  # the signature no longer covers this choice
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(export))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_proposal", str(voted.number), "--from-file", str(path), stdout=out)
    assert "the signature does not verify" in out.getvalue()


def test_verify_proposal_refuses_a_file_of_another_proposal(voted, tmp_path, client, get_export):
    path = tmp_path / "recount.json"
    path.write_text(get_export(voted.number)[1].decode())
    with pytest.raises(CommandError, match="not LIP-99"):
        call_command("verify_proposal", "99", "--from-file", str(path), stdout=io.StringIO())


def test_demo_seed_is_idempotent_and_its_closed_proposal_recounts(contracts, db):
    accounts_demo.seed(stdout=io.StringIO())
    demo.seed(stdout=io.StringIO())
    demo.seed(stdout=io.StringIO())
    proposals = {p.title: p for p in Proposal.objects.all()}
    assert len(proposals) == 4
    states = sorted((p.voting_type, p.state) for p in proposals.values())
    assert states == [("basic", "active"), ("basic", "active"), ("ranked-choice", "active"), ("weighted", "closed")]
    assert all(p.thread_id and p.votes.count() >= 2 for p in proposals.values())
    stress = proposals[demo.WETH_STRESS].risk_change
    assert (stress.symbol, stress.parameter, stress.new_value) == ("WETH", "price_shock", "-0.15")
    closed = proposals[demo.GRANTS_SPLIT]
    out = io.StringIO()
    call_command("verify_proposal", str(closed.number), stdout=out)
    assert "MATCH" in out.getvalue()


def test_at_close_the_published_result_is_exactly_the_recount(make_proposal, ballot, post_vote, dev_accounts, client, get_export):
    proposal = make_proposal("quadratic", ["A", "B", "C"], quorum="1")
    for account, split in zip(dev_accounts[1:5], ({"1": 3, "2": 1}, {"2": 7}, {"1": 1, "3": 2}, {"3": 1}), strict=True):
        post_vote(proposal.number, ballot(account, proposal, split))
    with time_machine.travel(proposal.end.timestamp() + 60, tick=False):
        published = client.get(f"/api/v1/proposals/{proposal.number}/results").json()
        export = json.loads(get_export(proposal.number)[1])
    assert [c["weight"] for c in published["choices"]] == [c["weight"] for c in export["result"]["choices"]]
    assert published["outcome"] == export["result"]["outcome"]


# Four voters (dev accounts #1–#4), then #1 signs again: per voting type, the ballots as signed.
PARITY_BALLOTS = {
    "basic": ([1, 2, 3, 2], 1),
    "single-choice": ([1, 2, 2, 4], 4),
    "approval": ([[1, 2], [2], [4, 1], [3]], [1, 4]),
    "weighted": ([{"1": 3, "2": 1}, {"2": 7}, {"1": 1, "3": 2}, {"3": 1}], {"4": 1, "2": 5}),
    "quadratic": ([{"1": 3, "2": 1}, {"2": 7}, {"1": 1, "3": 2}, {"3": 1}], {"1": 1}),
    "ranked-choice": ([[1, 2, 3, 4], [2, 3, 1, 4], [3, 1, 2, 4], [3, 2, 1, 4]], [2, 1, 3, 4]),
    "copeland": ([[1, 2, 3, 4], [2, 3, 1, 4], [3, 1, 2, 4], [1, 3, 2, 4]], [3, 1, 2, 4]),  # a cycle among 1–3
}


def test_live_and_frozen_results_of_every_voting_type_equal_snapshot_js(
    make_proposal, ballot, post_vote, dev_accounts, client
):
    proposals = {}
    for voting_type, (ballots, revote) in PARITY_BALLOTS.items():
        proposal = make_proposal(voting_type, ["Alpha", "Beta", "Gamma", "Delta"], quorum="1")
        for account, choice in zip(dev_accounts[1:5], ballots, strict=True):
            assert post_vote(proposal.number, ballot(account, proposal, choice)).status_code == HTTPStatus.CREATED
        later = ballot(dev_accounts[1], proposal, revote, timestamp=int(time.time()) + 1)
        assert post_vote(proposal.number, later).status_code == HTTPStatus.CREATED
        proposals[voting_type] = proposal

    def published(proposal) -> dict:
        results = client.get(f"/api/v1/proposals/{proposal.number}/results").json()
        votes = client.get(f"/api/v1/proposals/{proposal.number}/votes?page_size=1000").json()["items"]
        return {"results": results, "votes": votes}

    live = {t: published(p) for t, p in proposals.items()}
    end = max(p.end for p in proposals.values())
    with time_machine.travel(end.timestamp() + 60, tick=False):
        services.proposals_close_due()
        frozen = {t: published(p) for t, p in proposals.items()}

    cases = []
    for voting_type, proposal in proposals.items():
        method = voting_method(voting_type)
        counted = [
            (method.parse(v["choice"], len(proposal.choice_names)), Decimal(v["weight"]))
            for v in frozen[voting_type]["votes"]
        ]
        assert len(counted) == 4  # the re-vote replaced #1's first vote
        cases.append(snapshot_case(voting_type, proposal.choice_names, counted))
    _, answers = snapshot_scores(cases)

    for (voting_type, proposal), js in zip(proposals.items(), answers, strict=True):
        method = voting_method(voting_type)
        for stage in (live, frozen):
            results = stage[voting_type]["results"]
            scores = [Decimal(c["weight"]) for c in results["choices"]]
            assert_matches_snapshot(
                method, scores, Decimal(results["total_weight"]), js, quorum=proposal.quorum_amount
            )
        closed = frozen[voting_type]["results"]
        scores = [Decimal(c["weight"]) for c in closed["choices"]]
        outcome, winner = method.decide(scores, Decimal(closed["total_weight"]), proposal.quorum_amount)
        assert (closed["outcome"], closed["winner"]) == (outcome, winner), voting_type
    out = io.StringIO()
    call_command("verify_proposal", str(proposals["copeland"].number), stdout=out)
    assert "MATCH" in out.getvalue() and "0E-" not in out.getvalue()
