"""Per-IP limits count the peer; X-Forwarded-For is believed only from TRUSTED_PROXIES (CONTRACT)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from portal.siwe.views import NONCE_LIMIT

NONCE_URL = "/accounts/siwe/nonce/"


@pytest.mark.django_db
def test_50_forged_x_forwarded_for_headers_do_not_reset_the_nonce_limit(settings, frozen_clock, node):
    settings.TRUSTED_PROXIES = []
    client = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [
        client.get(NONCE_URL, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(50)
    ]
    assert statuses[: NONCE_LIMIT.count] == [HTTPStatus.OK] * NONCE_LIMIT.count
    assert statuses[NONCE_LIMIT.count :] == [HTTPStatus.TOO_MANY_REQUESTS] * (50 - NONCE_LIMIT.count)
    refused = client.get(NONCE_URL, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert refused.json()["error"].startswith("Too many requests.")


@pytest.mark.django_db
def test_a_trusted_proxys_forwarded_address_is_believed(settings, frozen_clock, node):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    proxy = Client(REMOTE_ADDR="10.0.0.5")
    for _ in range(NONCE_LIMIT.count):
        assert proxy.get(NONCE_URL, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == HTTPStatus.OK
    assert proxy.get(NONCE_URL, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == HTTPStatus.TOO_MANY_REQUESTS
    # Another client behind the same proxy has its own budget.
    assert proxy.get(NONCE_URL, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_hops_a_client_wrote_before_the_trusted_proxy_are_not_believed(settings, frozen_clock, node):
    """nginx appends the address it saw: `forged, real`. Only the hop the proxy wrote counts."""
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    proxy = Client(REMOTE_ADDR="10.0.0.5")
    statuses = [
        proxy.get(NONCE_URL, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7").status_code for n in range(40)
    ]
    assert statuses.count(HTTPStatus.OK) == NONCE_LIMIT.count


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ([], "198.51.100.7", "203.0.113.1", "198.51.100.7"),
        (["10.0.0.5"], "198.51.100.7", "203.0.113.1", "198.51.100.7"),
        (["10.0.0.5"], "10.0.0.5", "203.0.113.1", "203.0.113.1"),
        (["10.0.0.0/8"], "10.0.0.5", "203.0.113.1, 10.1.2.3", "203.0.113.1"),
        (["10.0.0.5"], "10.0.0.5", "not-an-address, 203.0.113.1:4711", "203.0.113.1"),
        (["10.0.0.5"], "10.0.0.5", "", "10.0.0.5"),
        (["::1"], "::1", "[2001:db8::7]:443", "2001:db8::7"),
    ],
)
def test_client_ip(settings, rf, trusted, remote, forwarded, expected):
    from portal.ratelimit import client_ip

    settings.TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
