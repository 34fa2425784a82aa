"""Admission control (portal/admission.py): a worker runs REQUEST_CONCURRENCY requests at once; the next one waits
in line and starts when one finishes; past REQUEST_QUEUE_TIMEOUT it answers 503 with Retry-After and a sentence
(JSON under /api/, the site's page elsewhere) and has written nothing. Driven through Django's async handler, each
request in a thread-sensitive context of its own as under uvicorn."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from http import HTTPStatus

import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.test import AsyncClient

from portal.admission import RETRY_AFTER_SECONDS, admission_line
from portal.discussion.models import Comment
from portal.discussion.services import DEFAULT_CATEGORIES, category_ensure, thread_create
from portal.errors import PORTAL_BUSY

from .faulty_urls import held
from ..test_settings import ROOT, manage

pytestmark = pytest.mark.urls("tests.portal.hardening.faulty_urls")


async def fetch(client: AsyncClient, method: str, path: str, **extra):
    async with ThreadSensitiveContext():  # what Django's ASGIHandler does for every request
        return await getattr(client, method)(path, **extra)


async def until(condition, what: str) -> None:
    """Let the event loop run until `condition()` holds (requests wait in line on this loop, without threads)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(what)


async def hold(client: AsyncClient, number: int) -> list[asyncio.Task]:
    """`number` more requests to /held/, each in the view when this returns."""
    entered = held.entered + number
    tasks = [asyncio.create_task(fetch(client, "get", "/held/")) for _ in range(number)]
    inside = asyncio.create_task(asyncio.to_thread(held.wait_entered, entered))
    await asyncio.wait([inside, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done():  # a held request answered before the test let it go
            raise AssertionError(f"a held request answered {task.result().status_code}: {task.result().content[:300]}")
    await inside
    return tasks


async def while_the_only_slot_is_held(client: AsyncClient, method: str, path: str, **extra):
    """The answer to one request made while REQUEST_CONCURRENCY 1 is taken by a held request."""
    holding = await hold(AsyncClient(), 1)
    try:
        return await fetch(client, method, path, **extra)
    finally:
        held.release()
        await asyncio.gather(*holding)


@pytest.fixture
def cap(settings):
    """REQUEST_CONCURRENCY 2; the test releases whatever it held."""
    settings.REQUEST_CONCURRENCY = 2
    settings.REQUEST_QUEUE_TIMEOUT = 30
    held.reset()
    yield settings
    if held.inside:
        held.release(held.inside)


async def test_the_cap_admits_n_at_once_and_the_next_waits_until_one_finishes(cap):
    client = AsyncClient()
    first = await hold(client, 2)
    third = asyncio.create_task(fetch(client, "get", "/held/"))
    line = admission_line()
    await until(lambda: line.waiting == 1, "the third request should wait in line")
    assert held.inside == 2 and line.running == 2
    held.release()  # one of the first two finishes: the third starts
    await asyncio.to_thread(held.wait_entered, 3)
    assert line.waiting == 0 and held.inside == 2
    held.release(2)
    answers = await asyncio.gather(*first, third)
    assert [a.status_code for a in answers] == [HTTPStatus.OK] * 3
    assert held.most_inside == 2 and line.running == 0


@pytest.fixture
def thread(transactional_db):
    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)
    return thread_create(title="Busy hour", category_slug="general", author=None)


@pytest.mark.chain  # a comment shows its author's tier, read from the test anvil
async def test_past_the_queue_timeout_a_write_is_a_json_503_with_retry_after_and_nothing_is_written(
    cap, thread, members, contracts
):
    cap.REQUEST_CONCURRENCY, cap.REQUEST_QUEUE_TIMEOUT = 1, 0.2
    (_, headers), = await sync_to_async(members)(1)
    client = AsyncClient()
    client.cookies.load(headers["Cookie"])
    comment = {"path": f"/api/v1/threads/{thread.pk}/comments", "data": {"body": "Anyone there?"},
               "content_type": "application/json", "headers": {"X-CSRFToken": headers["X-CSRFToken"]}}
    response = await while_the_only_slot_is_held(client, "post", **comment)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"error": PORTAL_BUSY}
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert not await Comment.objects.filter(thread=thread).aexists()
    # The same write, once a slot is free, is written: it was refused for the line, not for what it asked.
    assert (await fetch(client, "post", **comment)).status_code == HTTPStatus.CREATED
    assert await Comment.objects.filter(thread=thread, body="Anyone there?").acount() == 1


@pytest.mark.django_db(transaction=True)
async def test_past_the_queue_timeout_a_page_is_the_sites_503_page_with_retry_after(cap):
    cap.REQUEST_CONCURRENCY, cap.REQUEST_QUEUE_TIMEOUT = 1, 0.2
    response = await while_the_only_slot_is_held(AsyncClient(), "get", "/proposals/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = response.content.decode()
    assert 'data-testid="refusal"' in body and PORTAL_BUSY in body and "Traceback" not in body
    # answered above the middleware that sets the security headers, it carries them all the same
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src" in policy and "'unsafe-inline'" not in policy.split("script-src")[-1].split(";")[0]
    nonces = set(re.findall(r'nonce="([^"]+)"', body))
    assert all(f"'nonce-{nonce}'" in policy for nonce in nonces)  # the page's own scripts still run


async def test_static_files_do_not_wait_for_a_slot(cap):
    cap.REQUEST_CONCURRENCY, cap.REQUEST_QUEUE_TIMEOUT = 1, 0.2
    response = await while_the_only_slot_is_held(AsyncClient(), "get", "/static/portal/favicon.svg")
    assert response.status_code == HTTPStatus.OK
    assert admission_line().waiting == 0


POSTGRES = "postgres://portal@127.0.0.1:9/never_connected"  # building the application does not connect


def start_web_server(**env: str):
    """What `uvicorn portal.asgi:application` does first: import the application, which builds its middleware."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", *env)}
    return subprocess.run([sys.executable, "-c", "import portal.asgi"], cwd=ROOT, env={**clean, "DEBUG": "1", **env},
                          capture_output=True, text=True, timeout=120)


def test_a_web_server_with_request_concurrency_above_the_pool_refuses_to_start_with_a_sentence():
    result = start_web_server(DATABASE_URL=POSTGRES, DB_POOL_MAX_SIZE="10", REQUEST_CONCURRENCY="11")
    assert result.returncode != 0
    assert "ImproperlyConfigured: REQUEST_CONCURRENCY is 11 but DB_POOL_MAX_SIZE is 10" in result.stderr


def test_a_web_server_with_request_concurrency_equal_to_the_pool_starts():
    result = start_web_server(DATABASE_URL=POSTGRES, DB_POOL_MAX_SIZE="10", REQUEST_CONCURRENCY="10")
    assert result.returncode == 0, result.stderr


def test_a_task_worker_may_run_with_a_pool_smaller_than_request_concurrency():
    """A db_worker or the sampler serves no requests: DB_POOL_MAX_SIZE=1 is fine for it."""
    result = manage("check", env={"DEBUG": "1", "DATABASE_URL": POSTGRES, "DB_POOL_MAX_SIZE": "1"})
    assert result.returncode == 0, result.stderr


def test_request_concurrency_of_zero_stops_start_up_with_a_sentence():
    result = manage("check", env={"DEBUG": "1", "REQUEST_CONCURRENCY": "0"})
    assert result.returncode != 0
    assert "REQUEST_CONCURRENCY must be at least 1" in result.stderr
