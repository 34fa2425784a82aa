"""Deliver queued webhook POSTs: signed with HMAC-SHA256, retried with exponential backoff, failures kept for admins.

A receiver verifies `X-Portal-Signature-256: sha256=<hex>` as `hmac.new(secret, raw_body, sha256).hexdigest()`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta

import requests
from django.db import transaction
from django.utils import timezone

from .models import WebhookDelivery

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Portal-Signature-256"
MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 10
TIMEOUT_SECONDS = 5


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """10 s, 30 s, 90 s, 4.5 min, 13.5 min after the 1st…5th failure."""
    return timedelta(seconds=FIRST_RETRY_SECONDS * 3 ** (attempts - 1))


def deliver(delivery: WebhookDelivery, *, now: datetime | None = None) -> bool:
    """Try one delivery once; record the outcome. True when the receiver answered 2xx."""
    now = now or timezone.now()
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "dao-portal-status-webhook/1",
        "X-Portal-Event": delivery.event,
        "X-Portal-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature(delivery.webhook.secret, body),
    }
    delivery.attempts += 1
    try:
        response = requests.post(delivery.webhook.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS,
                                 allow_redirects=False)
        delivery.last_status_code = response.status_code
        ok = 200 <= response.status_code < 300
        delivery.last_error = "" if ok else f"The receiver answered HTTP {response.status_code}."
    except requests.RequestException as exc:
        ok = False
        delivery.last_status_code = None
        delivery.last_error = f"The receiver could not be reached: {type(exc).__name__}."[:300]
    if ok:
        delivery.state = WebhookDelivery.State.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = WebhookDelivery.State.FAILED
        log.warning("webhook delivery %s to %s failed for good: %s", delivery.pk, delivery.webhook.url, delivery.last_error)
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    delivery.save()
    return ok


def deliver_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """Send the deliveries whose time has come. Returns how many were attempted."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_related("webhook")
            .filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now, webhook__active=True)
            .order_by("next_attempt_at")[:limit]
        )
    for delivery in due:
        deliver(delivery, now=now)
    return len(due)
