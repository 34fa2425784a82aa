"""One-click unsubscribe (RFC 8058): what a signed link stops. The link works without signing in; a link that was
used already answers 410 with a sentence and changes nothing."""

from __future__ import annotations

from http import HTTPStatus

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from portal.errors import NotFound, Refusal
from portal.health.services.subscriptions import status_unsubscribe

from .models import Cadence, Kind
from .services import digest_unsubscribe, email_unsubscribe
from .tokens import unsubscribe_read

ALREADY = "You are already unsubscribed from these e-mails; nothing more of them will be sent."


def unsubscribe_describe(token: str) -> str:
    """What the link stops, as a sentence for the confirmation page. Refusal for a forged or expired link."""
    scope, ident, kind = unsubscribe_read(token)
    if scope == "kind" and kind in Kind.values:
        return f"E-mail about: {Kind(kind).label.lower()}."
    if scope == "digest" and kind in (Cadence.DAILY, Cadence.WEEKLY):
        return f"Your {kind} digest."
    if scope == "status":
        return "Status page e-mail (incidents and maintenance)."
    if scope == "address":
        return "Mail to this address: it will be removed from the account that added it."
    raise Refusal("This link is not valid: it may have been cut short or changed. Use the link in the e-mail as it came.")


def unsubscribe_apply(token: str) -> str:
    """Stop what the link names. Returns the sentence to show; Refusal (400 forged, 410 expired or used)."""
    what = unsubscribe_describe(token)
    scope, ident, kind = unsubscribe_read(token)
    if scope in ("kind", "digest") and not get_user_model().objects.filter(pk=ident).exists():
        raise NotFound("This account no longer exists, so nothing more is sent to it.")
    if scope == "kind":
        changed = email_unsubscribe(user_id=ident, kind=kind)
    elif scope == "digest":
        changed = digest_unsubscribe(user_id=ident, cadence=kind)
    elif scope == "status":
        status_unsubscribe(subscriber_id=ident)
        changed = True
    else:
        changed = bool(EmailAddress.objects.filter(pk=ident, verified=False).delete()[0])
    if not changed:
        raise Refusal(ALREADY, HTTPStatus.GONE)
    return f"Unsubscribed. {what}"
