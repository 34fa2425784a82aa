"""Schemathesis over /api/v1/openapi.json and /api/v2/openapi.json: every operation, generated requests (valid and
malformed), each answer checked against the document — no 5xx, only documented statuses, the documented content type
and a body that fits the documented shape (CONTRACT: "OpenAPI describes every request, response and error shape").

The app runs in-process (WSGI) on the test database seeded by `seed_demo` against the test anvil, so reads answer real
proposals, threads, feedback and chain data. Requests carry a signed-in session (a wallet account, force_login) and its
CSRF token, so the signed-in write operations are exercised too, not only their 401/403 refusals.
"""

from __future__ import annotations

import io

import hypothesis
import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.core.wsgi import get_wsgi_application
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from schemathesis.checks import not_a_server_error

from portal.api import api
from portal.health.status_openapi import openapi_document
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

# positive_data_acceptance is left out: some schema-valid requests are refused for what no schema can say — a vote
# needs a real signature, a mixed-case address its EIP-55 checksum, an impact preview a collateral the market lists,
# a subscription components that exist (each a 400 sentence, documented).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Bounded so that each CI mode (embedded and services) runs this module in about a minute.
EXAMPLES = 8


@pytest.fixture
def demo(db, contracts, chain_snapshot, settings):
    """The demo content (proposals of several voting types, threads, feedback, status history) on the test anvil;
    what seed_demo does on the chain (delegations) is undone afterwards, so later tests see the seeded chain."""
    settings.PORTAL = {**settings.PORTAL, "CHAIN_ID": None}
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def signed_in(demo, make_user):
    """Cookies and header of a signed-in wallet session with its CSRF token, as the portal's pages send them."""
    client = Client()
    make_user(signed_in_client=client)
    token = _get_new_csrf_string()
    cookies = {name: morsel.value for name, morsel in client.cookies.items()} | {"csrftoken": token}
    return {"cookies": cookies, "headers": {"X-CSRFToken": token}}


@pytest.fixture
def wsgi_app(demo):
    """The portal's WSGI app, with the test database kept open between requests (as Django's test Client does:
    close_old_connections would close the test transaction's connection)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The documents as the views serve them (built without the database, so at collection time).
v1 = schemathesis.openapi.from_dict(api.get_openapi_schema())
v2 = schemathesis.openapi.from_dict(openapi_document())
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


@pytest.mark.chain
@v1.parametrize()
@SETTINGS
def test_api_v1_answers_what_its_openapi_says(case, wsgi_app, signed_in):
    case.call_and_validate(checks=CHECKS, app=wsgi_app, **signed_in)


@pytest.mark.chain
@v2.parametrize()
@SETTINGS
def test_api_v2_answers_what_its_openapi_says(case, wsgi_app):
    case.call_and_validate(checks=CHECKS, app=wsgi_app)
