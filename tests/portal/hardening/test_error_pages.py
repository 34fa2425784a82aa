"""One error handler: JSON {"error"} under /api/, the site's page elsewhere, never a traceback; database faults 503."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client

from portal.errors import DATABASE_UNAVAILABLE

from .faulty_urls import DatabaseDownMiddleware

pytestmark = pytest.mark.urls("tests.portal.hardening.faulty_urls")


@pytest.fixture
def quiet_client(settings):
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def test_api_500_is_json_not_a_traceback(quiet_client, caplog):
    response = quiet_client.get("/api/v1/crash")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Something went wrong on our side. It was logged; please try again later."}
    assert "Traceback" not in response.content.decode() and "RuntimeError" not in response.content.decode()


def test_page_500_is_the_sites_own_page(quiet_client):
    response = quiet_client.get("/crash/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    body = response.content.decode()
    assert 'data-testid="refusal"' in body and "Something went wrong on our side." in body
    assert "RuntimeError" not in body and "Traceback" not in body


def test_unknown_api_path_is_a_json_404(quiet_client):
    response = quiet_client.get("/api/v1/no-such-thing")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "There is nothing at this address."}


@pytest.mark.django_db
def test_unknown_page_is_the_sites_404_page(quiet_client):
    response = quiet_client.get("/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "There is nothing at this address." in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_database_fault_in_the_api_is_503_with_a_sentence(settings, debug):
    settings.DEBUG = debug
    response = Client(raise_request_exception=False).get("/api/v1/database-gone")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"error": DATABASE_UNAVAILABLE}


def test_database_fault_on_a_page_is_503_with_a_sentence(quiet_client):
    response = quiet_client.get("/database-gone/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert DATABASE_UNAVAILABLE in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the connection pool is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_pool_exhausted_waits_then_answers_503(quiet_client, monkeypatch):
    """Every pooled connection is held elsewhere: a request waits the pool timeout, then 503 with the sentence."""
    pool = connection.pool
    assert pool is not None, "DATABASES OPTIONS['pool'] is not configured"
    monkeypatch.setattr(pool, "timeout", 0.5)
    held = []
    try:
        while len(held) < pool.max_size:
            try:
                held.append(pool.getconn(timeout=0.5))
            except Exception:  # noqa: BLE001 — this test's own connection holds the last slot
                break
        release = threading.Event()

        def request(path):
            try:
                return Client(raise_request_exception=False).get(path)
            finally:
                release.set()
                connection.close()  # the worker thread's connection (if any) goes back to the pool

        with ThreadPoolExecutor(max_workers=2) as executor:
            api = executor.submit(request, "/api/v1/proposals").result(timeout=30)
            page = executor.submit(request, "/proposals/").result(timeout=30)
    finally:
        for conn in held:
            pool.putconn(conn)
    assert api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert api.json() == {"error": DATABASE_UNAVAILABLE}
    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert DATABASE_UNAVAILABLE in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(("path", "json"), [("/api/v1/connection-terminated/", True), ("/connection-terminated/", False)])
def test_database_fault_in_a_middleware_is_503_with_a_sentence_also_with_debug_on(settings, debug, path, json):
    """Issue 11's terminated backends: a session or user read in a middleware failed with Django's 500 (its debug
    page with DEBUG on), which no view's handler sees."""
    settings.DEBUG = debug
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.portal.hardening.faulty_urls.ConnectionTerminatedMiddleware"]
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    if json:
        assert response.json() == {"error": DATABASE_UNAVAILABLE}
    else:
        assert DATABASE_UNAVAILABLE in response.content.decode() and "Traceback" not in response.content.decode()


@pytest.mark.django_db
def test_debugs_error_page_for_a_database_fault_does_not_ask_the_database_again(settings, make_user):
    """With DEBUG on, Django draws its technical 500 page for a fault in a middleware before DatabaseFaultMiddleware
    answers the 503, and that page reads the session and the user again (for the request and every frame's
    variables): nine more attempts, each another wait for an exhausted pool (DB_POOL_TIMEOUT) or a refused connection.
    """
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:2], "tests.portal.hardening.faulty_urls.DatabaseDownMiddleware",
                           *settings.MIDDLEWARE[2:]]
    client = Client(raise_request_exception=False)
    make_user(signed_in_client=client)
    DatabaseDownMiddleware.attempts = 0
    response = client.get("/proposals/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert DATABASE_UNAVAILABLE in response.content.decode()
    assert DatabaseDownMiddleware.attempts == 1  # the session read that failed, and nothing after it
