"""Signed links in mail: one-click unsubscribe and the status page's double opt-in. Nothing is stored for a link;
the signature (SECRET_KEY, a salt per purpose) and its age say whether it is real, and what it points at says
whether it was already used."""

from __future__ import annotations

from functools import lru_cache
from http import HTTPStatus

from django.core import signing
from django.urls import reverse

from portal.errors import Refusal

from .mail import absolute

UNSUBSCRIBE_SALT = "portal.notifications.unsubscribe"
UNSUBSCRIBE_MAX_AGE = 180 * 24 * 3600  # RFC 8058 links are clicked long after the mail; half a year
CONFIRM_SALT = "portal.health.subscription-confirm"
CONFIRM_MAX_AGE = 3 * 24 * 3600

FORGED = "This link is not valid: it may have been cut short or changed. Use the link in the e-mail as it came."
EXPIRED_UNSUBSCRIBE = ("This unsubscribe link has expired. Use the link in a newer e-mail, or change your e-mail "
                       "settings on your account page.")
EXPIRED_CONFIRM = "This confirmation link has expired. Subscribe again on the status page to get a new one."


def unsubscribe_token(*, scope: str, ident: int, kind: str = "") -> str:
    """`scope` is what the link stops: `kind` (one kind of a user's mail), `digest` (a user's daily or weekly
    digest: `kind` is the cadence), `status` (a status subscription) or `address` (an unverified address someone
    added to their account)."""
    return signing.dumps({"s": scope, "i": ident, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


@lru_cache(maxsize=1)
def _unsubscribe_path() -> str:
    """The path with a placeholder, reversed once: a digest run makes ten thousand links."""
    return reverse("notifications:unsubscribe", args=["TOKEN"])


def unsubscribe_url(*, scope: str, ident: int, kind: str = "") -> str:
    return absolute(_unsubscribe_path().replace("TOKEN", unsubscribe_token(scope=scope, ident=ident, kind=kind)))


def _read(token: str, *, salt: str, max_age: int, expired: str) -> dict:
    if not isinstance(token, str) or len(token) > 500:
        raise Refusal(FORGED)
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise Refusal(expired, HTTPStatus.GONE) from None
    except signing.BadSignature:
        raise Refusal(FORGED) from None
    if not isinstance(payload, dict):
        raise Refusal(FORGED)
    return payload


def unsubscribe_read(token: str) -> tuple[str, int, str]:
    """(scope, id, kind) of a genuine unsubscribe link; Refusal (400 forged, 410 expired) otherwise."""
    payload = _read(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE, expired=EXPIRED_UNSUBSCRIBE)
    scope, ident, kind = payload.get("s"), payload.get("i"), payload.get("k", "")
    if scope not in ("kind", "digest", "status", "address") or not isinstance(ident, int) or not isinstance(kind, str):
        raise Refusal(FORGED)
    return scope, ident, kind


def confirm_token(*, subscriber_id: int, request_no: int) -> str:
    return signing.dumps({"i": subscriber_id, "n": request_no}, salt=CONFIRM_SALT, compress=True)


def confirm_read(token: str) -> tuple[int, int]:
    """(subscriber id, request number) of a genuine confirmation link; Refusal (400 forged, 410 expired)."""
    payload = _read(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE, expired=EXPIRED_CONFIRM)
    ident, number = payload.get("i"), payload.get("n")
    if not isinstance(ident, int) or not isinstance(number, int):
        raise Refusal(FORGED)
    return ident, number
