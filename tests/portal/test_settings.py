"""Production settings: a missing secret stops start-up with a sentence; `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-for-the-test-only-0123456789",
    "ALLOWED_HOSTS": "portal.example.org",
    "SIWE_DOMAIN": "portal.example.org",
    "CHAIN_ID": "31337",
    "CHAIN_RPC_URL": "http://127.0.0.1:9",
    "EMAIL_URL": "smtp+tls://portal:secret@mail.example.org:587",
    "DEFAULT_FROM_EMAIL": "Portal <portal@example.org>",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    dropped = {*PRODUCTION, "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "SIWE_DOMAIN"])
def test_missing_production_setting_is_a_clear_error(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"The portal is not configured: {missing} must be set when DEBUG is off" in result.stderr
    assert "Traceback" not in result.stderr  # the operator reads one sentence


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_runs_with_dev_defaults():
    result = manage("check", env={"DEBUG": "1"})
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's journal mode (embedded run)")
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_so_readers_neither_block_nor_wait_for_the_writer():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL: one fsync per checkpoint, not per commit


def test_portal_settings_are_built_once_and_again_when_an_entry_changes(settings):
    from django.core.exceptions import ImproperlyConfigured

    from portal.conf import portal_settings

    first = portal_settings()
    assert portal_settings() is first  # unchanged: the same typed object, not built again per call
    settings.PORTAL["VOTES_PER_MINUTE"] = first.votes_per_minute + 7  # in place, as tests and benchmarks do
    assert portal_settings().votes_per_minute == first.votes_per_minute + 7
    settings.PORTAL = {**settings.PORTAL, "VOTES_PER_MINUTE": "not a number"}
    with pytest.raises(ImproperlyConfigured, match="VOTES_PER_MINUTE"):
        portal_settings()
    with pytest.raises(ImproperlyConfigured):  # a wrong value is never kept as the last good build
        portal_settings()
