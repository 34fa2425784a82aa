"""/api/v1/openapi.json describes every response and error, with CONTRACT's field names (CONTRACT: JSON API)."""

from http import HTTPStatus

import pytest

# CONTRACT "JSON API", written down from its table and its "Field names, so clients can rely on them" paragraph.
CONTRACT_PROPOSAL = {"number", "title", "body", "author", "category", "voting_type", "choices", "start", "end",
                     "snapshot_block", "quorum", "strategies", "state", "outcome", "thread"}
CONTRACT_VOTING_TYPES = {"basic", "single-choice", "approval", "weighted", "quadratic", "ranked-choice", "copeland"}
CONTRACT_STRATEGY = {"kind", "chain_id", "address", "multiplier"}
CONTRACT_STRATEGY_KINDS = {"erc20-balance-of", "erc20-votes", "erc721-balance-of"}
CONTRACT_RESULTS = {"choices", "total_weight", "voters", "quorum_reached", "state", "outcome"}  # weight per choice
CONTRACT_VOTE = {"voter", "choice", "reason", "timestamp", "weight", "signature", "receipt"}
CONTRACT_VOTE_BODY = {"voter", "choice", "reason", "timestamp", "signature"}
CONTRACT_VOTE_CREATED = {"receipt", "weight"}
CONTRACT_EIP712 = {"domain", "types", "primaryType"}
CONTRACT_THREAD = {"title", "category", "locked", "items", "count"}  # comments as a page (CONTRACT's list rule)
CONTRACT_COMMENT = {"id", "author", "html", "created"}
CONTRACT_COMMENT_BODY = {"body"}
CONTRACT_COMMENT_CREATED = {"id", "html"}
CONTRACT_FEEDBACK = {"id", "kind", "title", "status", "votes", "author"}
CONTRACT_POSITION = {"block", "collateral", "debt", "available_borrows", "liquidation_threshold", "ltv",
                     "health_factor", "liquidation_prices"}
CONTRACT_RISK = {"positions_at_risk", "debt_at_risk", "liquidations_24h", "bad_debt", "utilisation", "oracle"}
CONTRACT_PAGE = {"items", "count"}
CONTRACT_SUBSCRIPTION_BODY = {"email", "components"}
CONTRACT_SUBSCRIPTION_ACCEPTED = {"detail"}

# Fields the API has always written beyond CONTRACT's lists; named here so a new one is a decision, not an accident.
EXTRA = {
    "proposal": {"label", "risk_change"},
    "strategy": {"decimals"},
    "results": {"number", "winner", "quorum", "quorum_weight"},
    "thread": {"id", "pinned", "slow_mode_seconds", "created"},
    "comment": {"author_name", "edited", "parent", "plus_ones"},
    "comment_body": {"parent"},
    "position": {"address"},
    "risk": {"block", "positions", "liquidated_debt_24h", "unreadable_positions"},
}


@pytest.fixture(scope="module")
def openapi(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/v1/openapi.json").json()


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _response(doc: dict, method: str, path: str, status: HTTPStatus) -> dict:
    answer = doc["paths"][path][method]["responses"][str(int(status))]
    return _resolve(doc, answer["content"]["application/json"]["schema"])


def _body(doc: dict, method: str, path: str) -> dict:
    return _resolve(doc, doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"])


def _fields(doc: dict, schema: dict) -> set[str]:
    return set(_resolve(doc, schema)["properties"])


def _item(doc: dict, page: dict) -> dict:
    assert set(page["properties"]) == CONTRACT_PAGE
    return _resolve(doc, page["properties"]["items"]["items"])


def test_every_operation_documents_its_answer_and_each_error(openapi):
    operations = [(path, method, op) for path, ops in openapi["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 18
    for path, method, op in operations:
        statuses = {int(s) for s in op["responses"]}
        assert statuses & {HTTPStatus.OK, HTTPStatus.CREATED, HTTPStatus.ACCEPTED}, (method, path)
        for status in statuses:
            schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
            if status >= HTTPStatus.BAD_REQUEST:
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
            else:
                assert _resolve(openapi, schema).get("properties"), (method, path, status)
    assert set(openapi["components"]["schemas"]["Error"]["properties"]) == {"error"}
    cast = {int(s) for s in openapi["paths"]["/api/v1/proposals/{number}/votes"]["post"]["responses"]}
    assert cast == {201, 400, 403, 404, 409, 422, 429, 503}


def test_page_parameters_document_their_minimum(openapi):
    for path in ("/api/v1/proposals", "/api/v1/proposals/{number}/votes", "/api/v1/feedback"):
        page = next(p for p in openapi["paths"][path]["get"]["parameters"] if p["name"] == "page")
        bounds = [s.get("minimum") for s in page["schema"].get("anyOf", [page["schema"]])]
        assert 1 in bounds, path


def test_field_names_are_the_contracts(openapi):
    doc = openapi
    proposal = _response(doc, "get", "/api/v1/proposals/{number}", HTTPStatus.OK)
    assert set(proposal["properties"]) == CONTRACT_PROPOSAL | EXTRA["proposal"]
    assert set(proposal["properties"]["voting_type"]["enum"]) == CONTRACT_VOTING_TYPES
    strategy = _resolve(doc, proposal["properties"]["strategies"]["items"])
    assert set(strategy["properties"]) == CONTRACT_STRATEGY | EXTRA["strategy"]
    assert set(strategy["properties"]["kind"]["enum"]) == CONTRACT_STRATEGY_KINDS
    assert _item(doc, _response(doc, "get", "/api/v1/proposals", HTTPStatus.OK)) == proposal

    results = _response(doc, "get", "/api/v1/proposals/{number}/results", HTTPStatus.OK)
    assert set(results["properties"]) == CONTRACT_RESULTS | EXTRA["results"]
    assert "weight" in _fields(doc, results["properties"]["choices"]["items"])

    votes = _response(doc, "get", "/api/v1/proposals/{number}/votes", HTTPStatus.OK)
    assert set(_item(doc, votes)["properties"]) == CONTRACT_VOTE
    assert set(_body(doc, "post", "/api/v1/proposals/{number}/votes")["properties"]) == CONTRACT_VOTE_BODY
    created = _response(doc, "post", "/api/v1/proposals/{number}/votes", HTTPStatus.CREATED)
    assert set(created["properties"]) == CONTRACT_VOTE_CREATED
    assert set(_response(doc, "get", "/api/v1/eip712", HTTPStatus.OK)["properties"]) == CONTRACT_EIP712

    thread = _response(doc, "get", "/api/v1/threads/{thread_id}", HTTPStatus.OK)
    assert set(thread["properties"]) == CONTRACT_THREAD | EXTRA["thread"]
    assert _fields(doc, thread["properties"]["items"]["items"]) == CONTRACT_COMMENT | EXTRA["comment"]
    comment_path = "/api/v1/threads/{thread_id}/comments"
    assert set(_body(doc, "post", comment_path)["properties"]) == CONTRACT_COMMENT_BODY | EXTRA["comment_body"]
    assert set(_response(doc, "post", comment_path, HTTPStatus.CREATED)["properties"]) == CONTRACT_COMMENT_CREATED

    subscriptions = "/api/v1/status/subscriptions"
    assert set(_body(doc, "post", subscriptions)["properties"]) == CONTRACT_SUBSCRIPTION_BODY
    assert set(_response(doc, "post", subscriptions, HTTPStatus.ACCEPTED)["properties"]) == CONTRACT_SUBSCRIPTION_ACCEPTED

    feedback = _response(doc, "get", "/api/v1/feedback", HTTPStatus.OK)
    assert set(_item(doc, feedback)["properties"]) == CONTRACT_FEEDBACK

    position = _response(doc, "get", "/api/v1/positions/{address}", HTTPStatus.OK)
    assert set(position["properties"]) == CONTRACT_POSITION | EXTRA["position"]
    risk = _response(doc, "get", "/api/v1/risk", HTTPStatus.OK)
    assert set(risk["properties"]) == CONTRACT_RISK | EXTRA["risk"]


def test_amounts_are_documented_as_strings(openapi):
    doc = openapi
    results = _response(doc, "get", "/api/v1/proposals/{number}/results", HTTPStatus.OK)["properties"]
    for name in ("total_weight", "quorum", "quorum_weight"):
        assert results[name]["type"] == "string", name
    assert _response(doc, "get", "/api/v1/proposals/{number}", HTTPStatus.OK)["properties"]["quorum"]["type"] == "string"
    health_factor = _response(doc, "get", "/api/v1/positions/{address}", HTTPStatus.OK)["properties"]["health_factor"]
    assert {s["type"] for s in health_factor["anyOf"]} == {"string", "null"}
