"""A socket Origin must match one of the site's origins by scheme, host and port (CONTRACT, Websockets)."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from portal.asgi import application

SITE = "http://testserver:8000"


@pytest.fixture(autouse=True)
def site_origins(settings):
    settings.SITE_ORIGINS = [SITE]


async def _opens(origin: bytes | None) -> bool:
    headers = [(b"origin", origin)] if origin is not None else []
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=headers)
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "opens"),
    [
        (b"http://testserver:8000", True),
        (b"http://testserver:9999", False),  # same host, another port
        (b"https://testserver:8000", False),  # same host and port, another scheme
        (b"http://testserver", False),  # default port 80
        (b"http://evil.example:8000", False),
        (b"http://testserver:99999", False),  # not a port at all
        (b"null", False),
        (None, False),  # no Origin header
    ],
)
async def test_socket_origin(origin, opens):
    assert await _opens(origin) is opens


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "host", "opens"),
    [
        (b"http://testserver:8123", b"testserver:8123", True),  # the origin the socket was opened on
        (b"http://testserver:9999", b"testserver:8123", False),
        (b"https://testserver:8123", b"testserver:8123", False),  # a plain-ws socket from an https page
        (b"http://evil.example:8123", b"evil.example:8123", False),  # a Host that is not one of ALLOWED_HOSTS
    ],
)
async def test_socket_origin_same_as_the_socket(settings, origin, host, opens):
    settings.SITE_ORIGINS = []
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=[(b"origin", origin), (b"host", host)])
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    assert connected is opens
