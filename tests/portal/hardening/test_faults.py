"""Faults under live traffic, against the portal served by a uvicorn subprocess (tests/portal/hardening/conftest.py):
the server killed mid-write, and PostgreSQL backends terminated mid-request. What a client sees is a 2xx, a 4xx/503
sentence or a dropped connection, never a 500; and after recovery every write that was answered 2xx is there."""

from __future__ import annotations

import threading
import time
from http import HTTPStatus

import pytest
import requests
from django.db import connection

from portal.discussion.models import Comment
from portal.discussion.services import DEFAULT_CATEGORIES, category_ensure, thread_create

from .conftest import SERVER_APP_NAME

pytestmark = pytest.mark.chain  # comments show their authors' tiers, read from the test anvil

WRITERS = 6
POSTS_EACH = 10  # under the per-account limit (12 a minute), so a 429 would be a finding too


@pytest.fixture
def thread(transactional_db):
    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)
    return thread_create(title="Fault drill", category_slug="general", author=None)


class Writers:
    """WRITERS threads, each a signed-in member posting POSTS_EACH comments to the API; they stop at the first
    dropped connection. `answers` holds (status, body text, answer JSON or None) for every request."""

    def __init__(self, server, thread, members):
        self.server, self.thread = server, thread
        self.answers: list[tuple[int, str, dict | None]] = []
        self.dropped = 0
        self.lock = threading.Condition()  # notified at every answer, so a test can wait for a number of them
        self.threads = [
            threading.Thread(target=self._write, args=(n, headers), daemon=True)
            for n, (_, headers) in enumerate(members(WRITERS))
        ]

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        for thread in self.threads:
            thread.join(timeout=60)

    def count(self, status: int) -> int:
        with self.lock:
            return self._count(status)

    def wait_for(self, status: int, number: int, timeout: float = 10.0) -> None:
        """Until `number` answers had `status` (woken by each answer), or fail saying so after `timeout`."""
        with self.lock:
            reached = self.lock.wait_for(lambda: self._count(status) >= number, timeout=timeout)
        assert reached, f"{number} answers {status} did not arrive within {timeout} s ({self.count(status)} did)"

    def _count(self, status: int) -> int:
        return sum(1 for answer in self.answers if answer[0] == status)

    def _write(self, n: int, headers: dict) -> None:
        with requests.Session() as http:
            for i in range(POSTS_EACH):
                body = f"writer {n} comment {i}"
                try:
                    response = http.post(
                        f"{self.server.url}/api/v1/threads/{self.thread.pk}/comments", json={"body": body},
                        headers=headers, timeout=30,
                    )
                except requests.ConnectionError:
                    with self.lock:
                        self.dropped += 1
                    return
                try:
                    answer = response.json()
                except ValueError:
                    answer = None
                with self.lock:
                    self.answers.append((response.status_code, body, answer))
                    self.lock.notify_all()

    def assert_every_answer_is_a_success_or_a_sentence(self, allowed: set[int]):
        for status, body, answer in self.answers:
            assert status in allowed, (status, body, answer)
            assert answer is not None, (status, body)  # JSON, never an HTML page or a traceback
            if status >= 400:
                assert answer["error"].endswith("."), answer

    def assert_every_2xx_write_is_kept(self):
        created = {body: answer["id"] for status, body, answer in self.answers if status == HTTPStatus.CREATED}
        connection.close()  # the test's own connection may be one the fault broke
        stored = dict(Comment.objects.filter(thread=self.thread).values_list("body", "id"))
        assert {body: stored.get(body) for body in created} == created
        return created


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("terminating database backends needs PostgreSQL (services mode)")


KILL_ROUNDS = 6  # a hiccup, not an outage: psycopg's pool backs off (1 s, 2 s, 4 s …) after each failed connect


def _terminate_server_backends(stop: threading.Event, killed: list[int]) -> None:
    """Terminate every PostgreSQL backend of the server process, KILL_ROUNDS times 200 ms apart or until `stop`
    (pg_terminate_backend, from a connection of our own to the test database)."""
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None, host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432, autocommit=True,
    ) as killer:
        for _ in range(KILL_ROUNDS):
            if stop.is_set():
                return
            rows = killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s "
                "AND datname = current_database()", [SERVER_APP_NAME],
            ).fetchall()
            killed.append(sum(1 for (done,) in rows if done))
            stop.wait(0.2)


def test_postgres_backends_terminated_mid_request_answer_503_or_success_and_keep_every_2xx_write(
    postgres, portal_server, thread, members
):
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_terminate_server_backends, args=(stop, killed), daemon=True)
    writers = Writers(portal_server, thread, members)
    killer.start()
    writers.start()
    writers.join()
    stop.set()
    killer.join(timeout=10)
    assert sum(killed) > 0, "no backend was terminated: nothing was tested"
    assert writers.dropped == 0
    writers.assert_every_answer_is_a_success_or_a_sentence({HTTPStatus.CREATED, HTTPStatus.SERVICE_UNAVAILABLE})
    assert writers.count(HTTPStatus.CREATED) > 0
    writers.assert_every_2xx_write_is_kept()

    # Once the backends are left alone, the pool reconnects: reads (not rate-limited) are retried back to back, each
    # paced by the server's own pool wait, until one reaches the database; then a write must succeed at once.
    deadline = time.monotonic() + 20
    thread_url = f"{portal_server.url}/api/v1/threads/{thread.pk}"
    while (read := requests.get(thread_url, timeout=30)).status_code != HTTPStatus.OK:
        assert read.status_code == HTTPStatus.SERVICE_UNAVAILABLE, read.content
        assert time.monotonic() < deadline, "the database was not reachable again within 20 s after the storm"
    _, headers = members(1)[0]
    after = requests.post(f"{portal_server.url}/api/v1/threads/{thread.pk}/comments",
                          json={"body": "after the storm"}, headers=headers, timeout=10)
    assert after.status_code == HTTPStatus.CREATED, after.content


def test_server_killed_mid_write_keeps_every_2xx_write_after_restart(portal_server, thread, members):
    writers = Writers(portal_server, thread, members)
    writers.start()
    writers.wait_for(HTTPStatus.CREATED, WRITERS * 2)
    portal_server.kill()  # SIGKILL mid-traffic: no clean shutdown
    writers.join()
    assert writers.dropped > 0, "the kill came after every write: nothing was tested"
    writers.assert_every_answer_is_a_success_or_a_sentence({HTTPStatus.CREATED})

    portal_server.start()
    created = writers.assert_every_2xx_write_is_kept()
    listed = requests.get(f"{portal_server.url}/api/v1/threads/{thread.pk}", timeout=10).json()
    assert listed["count"] >= len(created)  # a write in flight at the kill may be there without its 201
    _, headers = members(1)[0]
    after = requests.post(f"{portal_server.url}/api/v1/threads/{thread.pk}/comments",
                          json={"body": "after the restart"}, headers=headers, timeout=10)
    assert after.status_code == HTTPStatus.CREATED
