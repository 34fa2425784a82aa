"""Services run only: a comment posted over HTTP to one server process reaches a websocket held by another, through
the Redis channel layer."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from http import HTTPStatus
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.db import connection
from django.test import Client


from .conftest import ESTABLISHED

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: cross-process delivery goes through Redis"),
    pytest.mark.django_db(transaction=True),
]


def _database_url() -> str:
    """The test database (pytest-django renamed it) as a URL the server processes understand."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _listening_socket() -> socket.socket:
    """A socket that already listens: the server inherits it (uvicorn --fd), so a request made before the server
    is up waits in the backlog instead of being refused — readiness is one blocking request, no polling."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    return listener


def _start_server(listener: socket.socket, anvil_url: str, database_url: str, log) -> subprocess.Popen:
    env = {
        **os.environ, "DEBUG": "1", "DATABASE_URL": database_url, "CHAIN_RPC_URL": anvil_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--fd", str(listener.fileno()),
         "--log-level", "warning", "--lifespan", "off"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, pass_fds=[listener.fileno()],
    )


def _wait_ready(port: int, process: subprocess.Popen, log_path: Path) -> None:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=60)
    except OSError as error:  # HTTPError included: the server answered, but not with the schema
        state = f"exited with {process.returncode}" if process.poll() is not None else "did not answer"
        raise RuntimeError(f"server on port {port} {state} ({error}): {log_path.read_text()[-3000:]}") from error


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker, anvil_url, tmp_path_factory):
    listeners = [_listening_socket(), _listening_socket()]
    ports = [listener.getsockname()[1] for listener in listeners]
    with django_db_blocker.unblock():
        database_url = _database_url()
    logs = [tmp_path_factory.mktemp("server") / "stderr.log" for _ in listeners]
    processes = []
    for listener, log_path in zip(listeners, logs, strict=True):
        with log_path.open("wb") as log:
            processes.append(_start_server(listener, anvil_url, database_url, log))
    try:
        for port, process, log_path in zip(ports, processes, logs, strict=True):
            _wait_ready(port, process, log_path)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        for listener in listeners:
            listener.close()


def test_post_on_one_process_reaches_a_socket_on_the_other(two_servers, thread, make_user):
    poster_port, reader_port = two_servers
    member = make_user(joined=ESTABLISHED)
    client = Client()
    client.force_login(member)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    async def scenario():
        uri = f"ws://127.0.0.1:{reader_port}/ws/threads/{thread.pk}/"
        async with websockets.connect(uri, origin=f"http://127.0.0.1:{reader_port}") as socket:
            assert "reading now" in await asyncio.wait_for(socket.recv(), 10)
            status, body = await asyncio.to_thread(_post_comment, poster_port, thread.pk, session, "Hello from process A")
            assert status == HTTPStatus.CREATED, body
            async with asyncio.timeout(10):
                while True:
                    message = await socket.recv()
                    if "Hello from process A" in message:
                        return message

    message = asyncio.run(scenario())
    assert 'hx-swap-oob="beforeend:#replies-root"' in message


def test_foreign_origin_is_refused_by_a_real_server(two_servers, thread):
    async def scenario():
        uri = f"ws://127.0.0.1:{two_servers[0]}/ws/threads/{thread.pk}/"
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(uri, origin="http://evil.example"):
                pass
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == HTTPStatus.FORBIDDEN


def _post_comment(port: int, thread_id: int, session: str, body: str) -> tuple[int, str]:
    """Sign-in cookie → CSRF cookie from a page → POST the JSON API with the CSRF header."""
    base = f"http://127.0.0.1:{port}"
    page = urllib.request.urlopen(
        urllib.request.Request(f"{base}/discussion/t/{thread_id}/", headers={"Cookie": f"sessionid={session}"})
    )
    csrf = re.search(r"csrftoken=([^;]+)", page.headers.get("Set-Cookie", "")).group(1)
    request = urllib.request.Request(
        f"{base}/api/v1/threads/{thread_id}/comments",
        data=json.dumps({"body": body}).encode(),
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf,
                 "Cookie": f"sessionid={session}; csrftoken={csrf}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
