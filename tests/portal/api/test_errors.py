"""Malformed path, query and body values answer 400 with a sentence naming the field (never pydantic's wording), a
signed-in write without the CSRF token answers 403 saying what to do, and none of them writes anything
(CONTRACT: "Errors are JSON {"error": "…"} with the right status"; "a page that is not a positive integer a 400
sentence")."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.test import Client

from governance.models import Vote
from portal.api_types import CSRF_SENTENCE
from portal.discussion.models import Comment
from portal.feedback.models import Post
from portal.feedback.models import Vote as FeedbackVote
from portal.health.models import StatusSubscriber


def _nothing_written():
    assert not Vote.objects.exists()
    assert not Comment.objects.exists()
    assert not Post.objects.exists()
    assert not FeedbackVote.objects.exists()
    assert not StatusSubscriber.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "sentence"), [
    ("/api/v1/proposals/null%2Cnull", "The proposal number must be a whole number, like /api/v1/proposals/3."),
    ("/api/v1/proposals/LIP-3", "The proposal number must be a whole number, like /api/v1/proposals/3."),
    ("/api/v1/proposals/%C2%B2/results", "The proposal number must be a whole number, like /api/v1/proposals/3."),
    ("/api/v1/proposals/x/votes", "The proposal number must be a whole number, like /api/v1/proposals/3."),
    ("/api/v1/proposals/1.5/export", "The proposal number must be a whole number, like /api/v1/proposals/3."),
    ("/api/v1/threads/null", "The thread id must be a whole number, like /api/v1/threads/12."),
    ("/api/v1/feedback/first", "The feedback post id must be a whole number, like /api/v1/feedback/5."),
    ("/api/v1/risk/impact?asset=WETH&parameter=ltv&value=0.5&block=-1",
     "The block must be a whole number from 0, like ?block=120."),
    ("/api/v1/risk/impact?asset=WETH&parameter=ltv&value=0.5&block=head",
     "The block must be a whole number from 0, like ?block=120."),
    ("/api/v1/risk/impact?parameter=ltv&value=0.5", "The parameter “asset” is missing: the request needs it."),
])
def test_a_malformed_parameter_is_a_400_sentence_naming_it(client, path, sentence):
    response = client.get(path)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"error": sentence}


@pytest.mark.django_db
def test_a_malformed_path_on_a_write_is_refused_before_anything_is_written(client, make_user):
    make_user(signed_in_client=client)
    response = client.post("/api/v1/proposals/null/votes", {}, content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "The proposal number must be a whole number, like /api/v1/proposals/3."}
    response = client.post("/api/v1/feedback/x/vote")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "The feedback post id must be a whole number, like /api/v1/feedback/5."}
    response = client.post("/api/v1/threads/x/comments", {"body": "hello"}, content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "The thread id must be a whole number, like /api/v1/threads/12."}
    _nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "body", "sentence"), [
    ("/api/v1/proposals/1/votes", "not json", "The request body is not valid JSON."),
    ("/api/v1/proposals/1/votes", '{"voter": NaN}', "The request body is not valid JSON."),
    ("/api/v1/proposals/1/votes", "[" * 100 + "]" * 100, "The request body is nested too deeply (at most 32 levels)."),
    ("/api/v1/proposals/1/votes", {"choice": "1", "timestamp": 1, "signature": "0x"},
     "The field “voter” is missing: the request needs it."),
    ("/api/v1/proposals/1/votes", {"voter": 7, "choice": "1", "timestamp": 1, "signature": "0x"},
     "The field “voter” must be text."),
    ("/api/v1/proposals/1/votes", {"voter": "0x" + "1" * 40, "choice": "1", "timestamp": "soon", "signature": "0x"},
     "The field “timestamp” must be a whole number."),
    ("/api/v1/status/subscriptions", {"email": "ok@example.org", "components": "api"},
     "The field “components” must be a list."),
    ("/api/v1/status/subscriptions", {"email": "ok@example.org", "components": [1]},
     "The field “components[0]” must be text."),
    ("/api/v1/status/subscriptions", {"components": []}, "The field “email” is missing: the request needs it."),
])
def test_a_malformed_body_is_a_400_sentence_naming_the_field_and_writes_nothing(client, path, body, sentence):
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.post(path, raw, content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": sentence}
    _nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/v1/feedback", {"kind": "idea", "title": "A stablecoin market"}),
    ("post", "/api/v1/feedback/1/vote", None),
    ("delete", "/api/v1/feedback/1/vote", None),
    ("post", "/api/v1/threads/1/comments", {"body": "Hello"}),
])
def test_a_signed_in_write_without_the_csrf_token_says_what_to_do(make_user, method, path, body):
    client = Client(enforce_csrf_checks=True)
    make_user(signed_in_client=client)
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"error": CSRF_SENTENCE}
    assert "X-CSRFToken" in CSRF_SENTENCE
    _nothing_written()


def test_the_document_lists_each_refusal_and_the_real_constraints(client):
    doc = client.get("/api/v1/openapi.json").json()
    paths = doc["paths"]

    def parameter(path, name, method="get"):
        return next(p for p in paths[path][method]["parameters"] if p["name"] == name)["schema"]

    def statuses(path, method="get"):
        return {int(s) for s in paths[path][method]["responses"]}

    for path in ("/api/v1/proposals/{number}", "/api/v1/proposals/{number}/results",
                 "/api/v1/proposals/{number}/export", "/api/v1/threads/{thread_id}", "/api/v1/feedback/{post_id}"):
        assert statuses(path) == {200, 400, 404, 503}, path
    for method, path in (("post", "/api/v1/feedback"), ("post", "/api/v1/feedback/{post_id}/vote"),
                         ("delete", "/api/v1/feedback/{post_id}/vote"), ("post", "/api/v1/threads/{thread_id}/comments")):
        assert {400, 401, 403, 503} <= statuses(path, method), path
    for path in ("/api/v1/accounts/{address}", "/api/v1/positions/{address}"):
        assert parameter(path, "address")["pattern"] == "^0x[0-9a-fA-F]{40}$"
    assert parameter("/api/v1/delegates", "sort")["enum"] == ["power", "participation"]
    assert parameter("/api/v1/feedback", "kind")["enum"] == ["", "idea", "bug", "question"]
    assert "planned" in parameter("/api/v1/feedback", "status")["enum"]
    query = parameter("/api/v1/search", "q")["anyOf"][0]
    assert (query["minLength"], query["maxLength"]) == (1, 200)
    impact = {p["name"]: p for p in paths["/api/v1/risk/impact"]["get"]["parameters"]}
    assert {name for name, p in impact.items() if p["required"]} == {"asset", "parameter", "value"}
    assert impact["parameter"]["schema"]["enum"] == ["liquidation_threshold", "ltv", "price_shock"]
    vote = doc["components"]["schemas"]["VoteIn"]["properties"]
    assert vote["voter"]["pattern"] == "^0x[0-9a-fA-F]{40}$" and vote["timestamp"]["minimum"] == 0
    subscription = doc["components"]["schemas"]["SubscriptionIn"]["properties"]
    assert subscription["email"]["format"] == "email"
