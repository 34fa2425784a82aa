"""ASGI entry point: HTTP through Django, websockets through Channels with an exact-origin and session check."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_asgi_app = get_asgi_application()  # before anything imports models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from portal.live import server_loop_remember  # noqa: E402
from portal.origins import SiteOriginValidator  # noqa: E402
from portal.routing import websocket_urlpatterns  # noqa: E402

_router = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


async def application(scope, receive, send):
    server_loop_remember()  # coalesced live updates (portal.live) are scheduled on this loop
    await _router(scope, receive, send)
