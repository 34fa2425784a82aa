"""The websocket Origin check: scheme, host and port must be exactly one of settings.SITE_ORIGINS.

Channels' AllowedHostsOriginValidator compares the host only, so `http://HOST:9999` or a plain-http page could open
a signed-in socket. Read at connection time, so tests can override SITE_ORIGINS. A missing Origin is refused
(browsers always send one).
"""

from __future__ import annotations

from channels.security.websocket import OriginValidator
from django.conf import settings


class SiteOriginValidator(OriginValidator):
    def __init__(self, application):
        super().__init__(application, allowed_origins=())

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return False
        try:
            return any(self.match_allowed_origin(parsed_origin, origin) for origin in settings.SITE_ORIGINS)
        except ValueError:  # a port that is not a port ("http://host:99999")
            return False
