import functools

from django.templatetags.static import static
from django.urls import get_script_prefix, reverse

from portal.conf import portal_settings

# The layout's links and assets (templates/_base.html), the same for every request under one script prefix.
LAYOUT_URLS = {
    "home": "home", "proposals": "governance:index", "discussion": "discussion:index", "status": "health:index",
    "feedback": "feedback:index", "delegates": "people:directory", "search": "search:index",
    "account": "accounts:index", "siwe_nonce": "siwe_nonce", "siwe_login": "siwe_login",
}
LAYOUT_ASSETS = {
    "css": "portal/css/portal.css", "notifications_css": "notifications/notifications.css",
    "favicon": "portal/favicon.svg", "htmx": "vendor/htmx/htmx.min.js", "htmx_ws": "vendor/htmx-ext-ws/ws.min.js",
    "live_js": "portal/js/live.js", "siwe_js": "portal/js/siwe.js",
}


@functools.cache
def _layout(script_prefix: str) -> dict[str, str]:
    """Reversed and looked up once per process (and prefix): about a third of the layout's rendering otherwise."""
    return {**{name: reverse(route) for name, route in LAYOUT_URLS.items()},
            **{name: static(path) for name, path in LAYOUT_ASSETS.items()}}


def portal(request):
    return {"site_name": portal_settings().site_name, "layout": _layout(get_script_prefix())}
