"""Signed votes through POST /api/v1/proposals/{number}/votes: every voting type, every bad vote, re-votes."""

from __future__ import annotations

import time
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine
from django.conf import settings as django_settings

from governance.eip712 import eip712_domain
from governance.models import ProposalTally, Vote

pytestmark = [pytest.mark.django_db, pytest.mark.chain]

WEIGHT_1 = Decimal(12_200)  # anvil #1: 12,000 LOYAL + 2 badges × 100
WEIGHT_2 = Decimal(3_100)  # anvil #2: 3,000 LOYAL + 1 badge × 100

CASES = {
    "basic": (None, 1, [WEIGHT_1, 0, 0]),
    "single-choice": (["A", "B", "C"], 2, [0, WEIGHT_1, 0]),
    "approval": (["A", "B", "C"], [1, 3], [WEIGHT_1, 0, WEIGHT_1]),
    "weighted": (["A", "B"], {"1": 1, "2": 3}, [WEIGHT_1 / 4, WEIGHT_1 * 3 / 4]),
    "quadratic": (["A", "B"], {"2": 5}, [0, WEIGHT_1]),
    "ranked-choice": (["A", "B", "C"], [3, 1, 2], [0, 0, WEIGHT_1]),
    "copeland": (["A", "B", "C"], [2, 1, 3], None),
}


@pytest.mark.parametrize("voting_type", list(CASES))
def test_a_signed_vote_of_each_type_is_counted_with_its_weight_and_receipt(
    voting_type, make_proposal, ballot, post_vote, dev_accounts, client
):
    choices, choice, expected = CASES[voting_type]
    proposal = make_proposal(voting_type, choices)
    body = ballot(dev_accounts[1], proposal, choice, reason="Safer for lenders.")
    response = post_vote(proposal.number, body)
    assert response.status_code == HTTPStatus.CREATED, response.json()
    answer = response.json()
    assert Decimal(answer["weight"]) == WEIGHT_1
    assert answer["receipt"].startswith("0x") and len(answer["receipt"]) == 66
    vote = Vote.objects.get(proposal=proposal)
    assert vote.receipt == answer["receipt"] and vote.voter == dev_accounts[1].address
    assert vote.payload["message"]["choice"] == body["choice"] and vote.reason == "Safer for lenders."

    results = client.get(f"/api/v1/proposals/{proposal.number}/results").json()
    assert results["voters"] == 1 and Decimal(results["total_weight"]) == WEIGHT_1
    if expected is not None:
        assert [Decimal(c["weight"]) for c in results["choices"]] == [Decimal(e).quantize(Decimal("1e-18")) for e in expected]
    votes = client.get(f"/api/v1/proposals/{proposal.number}/votes").json()
    assert votes["count"] == 1
    assert set(votes["items"][0]) == {"voter", "choice", "reason", "timestamp", "weight", "signature", "receipt"}


def test_a_later_vote_replaces_the_earlier_one(make_proposal, ballot, post_vote, dev_accounts, client):
    proposal = make_proposal("single-choice", ["A", "B"])
    now = int(time.time())
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1, timestamp=now)).status_code == HTTPStatus.CREATED
    assert post_vote(proposal.number, ballot(dev_accounts[2], proposal, 1, timestamp=now)).status_code == HTTPStatus.CREATED
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 2, timestamp=now + 2)).status_code == HTTPStatus.CREATED
    assert Vote.objects.filter(proposal=proposal).count() == 2
    results = client.get(f"/api/v1/proposals/{proposal.number}/results").json()
    assert [Decimal(c["weight"]) for c in results["choices"]] == [WEIGHT_2, WEIGHT_1]
    assert results["voters"] == 2

    stale = post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1, timestamp=now + 1))
    assert stale.status_code == HTTPStatus.CONFLICT
    assert "already counted" in stale.json()["error"]
    assert Vote.objects.get(proposal=proposal, voter=dev_accounts[1].address).choice == "2"


def _assert_nothing_stored(proposal, tally_before):
    assert not Vote.objects.filter(proposal=proposal).exists()
    assert ProposalTally.objects.get(proposal=proposal).state == tally_before


@pytest.mark.parametrize(
    ("case", "status", "sentence"),
    [
        ("wrong signer", HTTPStatus.BAD_REQUEST, "does not match the voter"),
        ("another proposal's signature", HTTPStatus.BAD_REQUEST, "does not match the voter"),
        ("another deployment's domain", HTTPStatus.BAD_REQUEST, "does not match the voter"),
        ("another chain", HTTPStatus.BAD_REQUEST, "does not match the voter"),
        ("timestamp too old", HTTPStatus.UNPROCESSABLE_ENTITY, "timestamp is too old"),
        ("timestamp in the future", HTTPStatus.UNPROCESSABLE_ENTITY, "timestamp is in the future"),
        ("malformed choice", HTTPStatus.UNPROCESSABLE_ENTITY, "Choose exactly one option"),
        ("not JSON", HTTPStatus.UNPROCESSABLE_ENTITY, "not valid JSON"),
        ("bad signature hex", HTTPStatus.BAD_REQUEST, "0x-prefixed hex"),
        ("bad voter", HTTPStatus.BAD_REQUEST, "Ethereum address"),
        ("missing field", HTTPStatus.BAD_REQUEST, "The field “signature” is missing: the request needs it."),
    ],
)
def test_bad_votes_are_refused_with_a_sentence_and_store_nothing(
    case, status, sentence, make_proposal, ballot, post_vote, dev_accounts
):
    proposal = make_proposal("basic")
    other = make_proposal("basic", title="Another")
    before = ProposalTally.objects.get(proposal=proposal).state
    voter = dev_accounts[1]
    now = int(time.time())
    body = {
        "wrong signer": lambda: ballot(dev_accounts[2], proposal, 1, voter=voter.address),
        "another proposal's signature": lambda: ballot(voter, other, 1),
        "another deployment's domain": lambda: ballot(voter, proposal, 1, domain={**eip712_domain(), "name": "Other DAO"}),
        "another chain": lambda: ballot(voter, proposal, 1, domain={**eip712_domain(), "chainId": 1}),
        "timestamp too old": lambda: ballot(voter, proposal, 1, timestamp=now - 11 * 60),
        "timestamp in the future": lambda: ballot(voter, proposal, 1, timestamp=now + 11 * 60),
        "malformed choice": lambda: ballot(voter, proposal, 4),
        "not JSON": lambda: ballot(voter, proposal, "For"),
        "bad signature hex": lambda: {**ballot(voter, proposal, 1), "signature": "0xzz"},
        "bad voter": lambda: {**ballot(voter, proposal, 1), "voter": "0x1234"},
        "missing field": lambda: {k: v for k, v in ballot(voter, proposal, 1).items() if k != "signature"},
    }[case]()
    if case == "another proposal's signature":
        body = {**body}  # signed for `other`, replayed on `proposal`
    response = post_vote(proposal.number, body)
    assert response.status_code == status, response.json()
    assert sentence in response.json()["error"]
    _assert_nothing_stored(proposal, before)


def test_a_vote_on_a_draft_is_refused(make_proposal, ballot, post_vote, dev_accounts):
    draft = make_proposal("basic", activate=False)
    response = post_vote(draft.number, ballot(dev_accounts[1], draft, 1))
    assert response.status_code == HTTPStatus.CONFLICT
    assert "still a draft" in response.json()["error"]
    assert not Vote.objects.exists()


def test_a_vote_after_the_end_is_refused(make_proposal, ballot, post_vote, dev_accounts):
    proposal = make_proposal("basic", hours=1)
    before = ProposalTally.objects.get(proposal=proposal).state
    with time_machine.travel(proposal.end.timestamp() + 5, tick=False):
        response = post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))
    assert response.status_code == HTTPStatus.CONFLICT
    assert "closed" in response.json()["error"]
    _assert_nothing_stored(proposal, before)


def test_a_cancelled_proposal_takes_no_votes(make_proposal, ballot, post_vote, dev_accounts, admin_user):
    from governance.services import proposal_cancel

    proposal = make_proposal("basic")
    proposal_cancel(proposal=proposal, actor=admin_user, reason="Duplicate of LIP-1.")
    response = post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))
    assert response.status_code == HTTPStatus.CONFLICT
    assert "cancelled" in response.json()["error"]
    assert not Vote.objects.exists()


def test_zero_weight_is_refused_with_a_sentence(make_proposal, ballot, post_vote, stranger):
    proposal = make_proposal("basic")
    response = post_vote(proposal.number, ballot(stranger, proposal, 1))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "had no voting power when it was measured (block" in response.json()["error"]
    assert not Vote.objects.exists()


def test_dev_keys_are_refused_where_configured(make_proposal, ballot, post_vote, dev_accounts, monkeypatch):
    proposal = make_proposal("basic")
    monkeypatch.setitem(django_settings.PORTAL, "REFUSE_DEV_KEYS", True)
    response = post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "development keys are refused" in response.json()["error"]
    assert not Vote.objects.exists()


def test_node_down_answers_503_and_stores_nothing(make_proposal, ballot, post_vote, dev_accounts, monkeypatch, node):
    from governance import chain as chain_module

    proposal = make_proposal("basic")
    before = ProposalTally.objects.get(proposal=proposal).state
    body = ballot(dev_accounts[1], proposal, 1)
    monkeypatch.setitem(django_settings.PORTAL, "CHAIN_ID", node.chain_id)
    monkeypatch.setitem(django_settings.PORTAL, "CHAIN_RPC_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(chain_module, "RPC_RETRIES", 1)
    response = post_vote(proposal.number, body)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "cannot be reached" in response.json()["error"]
    _assert_nothing_stored(proposal, before)


def test_unknown_proposal_is_404(post_vote, ballot, dev_accounts, db, client):
    response = post_vote(999, ballot(dev_accounts[1], 999, 1))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"] == "There is no proposal LIP-999."
    assert client.get("/api/v1/proposals/999/results").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("number", [2**63, 2**96])  # past any integer column (schemathesis found 2**96 once)
def test_a_proposal_number_past_the_column_is_404_not_500(post_vote, ballot, dev_accounts, db, number):
    response = post_vote(number, ballot(dev_accounts[1], 1, 1))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"] == f"There is no proposal LIP-{number}."
    assert not Vote.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_votes_are_each_counted_exactly_once(
    make_proposal, ballot, node, minter, transact, contracts, chain_snapshot
):
    """Fifty wallets vote at once (threads, separate connections): fifty votes, and the running tally equals the
    recount. Weights come from plain balances (erc20-balance-of) so the wallets need no delegation."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections
    from eth_account import Account

    from governance.deploy import contract
    from governance.eip712 import SignedBallot
    from governance.selectors import proposal_recount, proposal_results
    from governance.services import vote_cast

    token = contract(node, "LoyaltyToken", contracts["LoyaltyToken"])
    voters = [Account.create() for _ in range(50)]
    transact(minter, token, "mintBatch", [v.address for v in voters], [i * 10**18 for i in range(1, 51)])
    node.w3.provider.make_request("anvil_mine", ["0x2"])
    proposal = make_proposal("approval", ["A", "B", "C"])
    proposal.strategies = [{"kind": "erc20-balance-of", "chain_id": node.chain_id, "address": token.address,
                            "multiplier": "1", "decimals": 18}]
    proposal.save(update_fields=["strategies"])
    bodies = [ballot(v, proposal, [1 + i % 3]) for i, v in enumerate(voters)]

    def cast(body):
        try:
            return vote_cast(proposal=proposal, ballot=SignedBallot.from_fields(proposal=proposal.number, **body)).weight
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        weights = list(pool.map(cast, bodies))
    assert sorted(Decimal(w) for w in weights) == [Decimal(i) for i in range(1, 51)]
    assert Vote.objects.filter(proposal=proposal).count() == 50
    proposal = type(proposal).objects.get(pk=proposal.pk)
    results = proposal_results(proposal=proposal)
    assert results.voters == 50 and results.total == Decimal(sum(range(1, 51)))
    assert results.scores == proposal_recount(proposal=proposal).scores
    connection.close()
