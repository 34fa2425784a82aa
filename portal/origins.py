"""The websocket Origin check: scheme, host and port must be the site's own.

Channels' AllowedHostsOriginValidator compares the host only, so `http://HOST:9999` or a plain-http page could open
a signed-in socket. Here an Origin is accepted when it is exactly one of settings.SITE_ORIGINS (the public origins:
CSRF_TRUSTED_ORIGINS and https://SIWE_DOMAIN, which a TLS-terminating proxy needs), or exactly the origin the socket
itself was opened on (its scheme, and its Host header, which must be one of ALLOWED_HOSTS). A missing Origin is
refused (browsers always send one). Read at connection time, so tests can override the settings.
"""

from __future__ import annotations

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


class SiteOriginValidator(OriginValidator):
    def __init__(self, application):
        super().__init__(application, allowed_origins=())

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        if self._allowed(scope, headers.get(b"origin"), headers.get(b"host")):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def _allowed(self, scope, origin: bytes | None, host: bytes | None) -> bool:
        if not origin:
            return False
        parsed = urlparse(origin.decode("latin1"))
        patterns = list(settings.SITE_ORIGINS)
        if host:
            domain, _port = split_domain_port(host.decode("latin1"))
            if domain and validate_host(domain, settings.ALLOWED_HOSTS):
                scheme = "https" if scope.get("scheme") == "wss" else "http"
                patterns.append(f"{scheme}://{host.decode('latin1')}")
        try:
            return any(self.match_allowed_origin(parsed, pattern) for pattern in patterns)
        except ValueError:  # a port that is not a port ("http://host:99999")
            return False
