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
