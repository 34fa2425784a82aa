"""Fault fixtures: the portal's cache on a private redis-server (tests/conftest.py's `private_redis`), a frozen
clock, the portal served by a uvicorn subprocess a test may kill, and signed-in members for raw HTTP clients."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from governance.devchain import free_port
from tests.process_output import ProcessOutput

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def redis_cache(settings, private_redis, monkeypatch):
    """The portal's cache on the private Redis, retrying Redis on every call (no back-off window) for the test."""
    from portal import cache as portal_cache

    monkeypatch.setattr(portal_cache, "RETRY_SECONDS", 0.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.DegradingRedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return private_redis


@pytest.fixture
def frozen_clock():
    """Time stands still, so a run of requests never straddles two rate-limit windows."""
    with time_machine.travel(1_800_000_000, tick=False):
        yield


class PortalServer:
    """`uvicorn portal.asgi:application` in a subprocess of its own on a free port, serving the test database and
    the test chain, so a test can kill it (SIGKILL: no clean shutdown) and start it again."""

    def __init__(self, *, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = Path(tempfile.gettempdir()) / f"portal-fault-server-{self.port}.log"  # its output, for a failure
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        # At log level info uvicorn says "Uvicorn running on …" once it listens: the fixture reads that line.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1", "--port",
             str(self.port), "--log-level", "info", "--no-access-log", "--lifespan", "off"],
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        output = ProcessOutput(self.process, log_path=self.log)
        if not output.wait_for_line("Uvicorn running on", timeout=timeout):
            self.kill()
            raise RuntimeError(
                f"the portal server did not say it was running on port {self.port} within {timeout:g} s "
                f"(exit status {self.process.poll()}): {output.tail()}"
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def database_url() -> str:
    """The URL of the test database this process uses (PostgreSQL, or SQLite's test file)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


SERVER_APP_NAME = "portal-fault-server"  # the server's PostgreSQL connections carry it (PGAPPNAME), for the killer


@pytest.fixture(scope="module")
def _portal_server_process(django_db_setup, contracts):
    """One server for a module's fault tests: a Python process takes seconds to import the portal, so it starts
    once (and again only after a test killed it)."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "PORT")}
    env.update(
        DEBUG="1", DATABASE_URL=database_url(), CHAIN_RPC_URL=django_settings.PORTAL["CHAIN_RPC_URL"],
        PGAPPNAME=SERVER_APP_NAME, DB_POOL_TIMEOUT="2",
        LOYALTY_TOKEN_ADDRESS=contracts["LoyaltyToken"], ACHIEVEMENT_BADGE_ADDRESS=contracts["AchievementBadge"],
        LENDING_POOL_ADDRESS=contracts["LendingPool"], PRICE_ORACLE_ADDRESS=contracts["DemoPriceOracle"],
    )
    server = PortalServer(env=env)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def portal_server(_portal_server_process, transactional_db):
    """The running PortalServer on the test database (started again if a test killed it)."""
    if _portal_server_process.process.poll() is not None:
        _portal_server_process.start()
    return _portal_server_process


@pytest.fixture
def members(make_user):
    """`members(n)` → n established accounts, each with a signed-in session cookie and a CSRF secret, for raw HTTP
    clients: [(user, {"Cookie": …, "X-CSRFToken": …})]."""

    def make(n: int):
        out = []
        for _ in range(n):
            client = Client()
            user = make_user(joined=timedelta(days=60), signed_in_client=client)
            csrf = secrets.token_hex(16)  # an unmasked 32-character secret: the same in cookie and header
            session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
            out.append((user, {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}))
        return out

    return make
