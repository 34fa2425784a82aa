"""The governance JSON API: CONTRACT field names, pagination, errors as sentences, OpenAPI."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus

import pytest

from portal.parsing import PAGE_SENTENCE

pytestmark = pytest.mark.django_db


def test_proposal_fields_are_the_contracts(make_proposal, client):
    proposal = make_proposal("approval", ["A", "B", "C"], quorum="250.5")
    answer = client.get(f"/api/v1/proposals/{proposal.number}").json()
    for name in ("number", "title", "body", "author", "category", "voting_type", "choices", "start", "end",
                 "snapshot_block", "quorum", "strategies", "state", "outcome", "thread"):
        assert name in answer
    assert answer["choices"] == ["A", "B", "C"] and answer["voting_type"] == "approval"
    assert answer["quorum"] == "250.5" and isinstance(answer["quorum"], str)
    assert {"kind", "chain_id", "address", "multiplier"} <= set(answer["strategies"][0])
    assert answer["state"] == "active" and answer["outcome"] is None


def test_results_shape_before_any_vote(make_proposal, client):
    proposal = make_proposal("basic", quorum="10")
    answer = client.get(f"/api/v1/proposals/{proposal.number}/results").json()
    assert [c["choice"] for c in answer["choices"]] == ["For", "Against", "Abstain"]
    assert all(Decimal(c["weight"]) == 0 for c in answer["choices"])
    assert answer["voters"] == 0 and answer["quorum_reached"] is False and answer["state"] == "active"


def test_lists_are_paginated_newest_first(make_proposal, client, settings):
    for i in range(3):
        make_proposal("basic", activate=False, title=f"Draft {i}")
    answer = client.get("/api/v1/proposals").json()
    assert answer["count"] == 3 and [p["title"] for p in answer["items"]] == ["Draft 2", "Draft 1", "Draft 0"]
    assert client.get("/api/v1/proposals?page=2").json()["items"] == []
    refused = client.get("/api/v1/proposals?page=0")
    assert refused.status_code == HTTPStatus.BAD_REQUEST and refused.json()["error"] == PAGE_SENTENCE
    votes = client.get("/api/v1/proposals/1/votes?page_size=5000")
    assert votes.status_code == HTTPStatus.BAD_REQUEST and "page_size" in votes.json()["error"]


def test_malformed_requests_are_sentences_not_500s(make_proposal, client):
    from governance.models import Vote

    proposal = make_proposal("basic")
    response = client.post(f"/api/v1/proposals/{proposal.number}/votes", "not json", content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "The request body is not valid JSON."}
    response = client.post(
        f"/api/v1/proposals/{proposal.number}/votes",
        {"voter": "0x0", "choice": 1, "timestamp": "soon", "signature": 5},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "The field “choice” must be text."}
    assert not Vote.objects.exists()


def test_unknown_list_filters_are_refused_with_a_sentence(db, client):
    refused = client.get("/api/v1/proposals?category=memes")
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json()["error"].startswith("Unknown category 'memes': use one of ")
    refused = client.get("/api/v1/proposals?page=two")
    assert (refused.status_code, refused.json()) == (HTTPStatus.BAD_REQUEST, {"error": PAGE_SENTENCE})


def test_openapi_lists_the_governance_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/proposals", "/api/v1/proposals/{number}", "/api/v1/proposals/{number}/results",
                 "/api/v1/proposals/{number}/votes", "/api/v1/eip712", "/api/v1/proposals/{number}/export"):
        assert path in paths
