"""Webhook POSTs as durable effects (portal.effects): signed with HMAC-SHA256, retried with backoff by the task queue,
failures kept for admins. Each `WebhookDelivery` row is the delivery log; its task is `webhook_deliver`.

A receiver verifies `X-Portal-Signature-256: sha256=<hex>` as `hmac.new(secret, raw_body, sha256).hexdigest()`.
`X-Portal-Delivery` is the same on every attempt of one delivery: a receiver that has seen it may drop the repeat
(after a worker dies between sending and recording, the POST is sent again).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable

import requests
from django.db import connection
from django.utils import timezone

from portal.effects.services import durable, effect_enqueue

from .models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Portal-Signature-256"
MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 10  # then 30 s, 90 s, 4.5 min, 13.5 min
TIMEOUT_SECONDS = 5


# What a webhook can subscribe to, and the events each topic carries (the event name's first part picks the topic).
TOPICS = {
    "status": ("Status page", "incident.created, incident.updated, maintenance.scheduled, maintenance.updated, "
                              "component.updated"),
    "governance": ("Governance", "proposal.created, proposal.started, proposal.ended, proposal.cancelled, "
                                 "proposal.executed, vote.cast"),
    "feedback": ("Feedback", "feedback.status_changed"),
}
_TOPIC_OF = {"incident": "status", "maintenance": "status", "component": "status", "proposal": "governance",
             "vote": "governance", "feedback": "feedback"}
TEST_EVENT = "ping"


def topic_of(event: str) -> str:
    return _TOPIC_OF[event.split(".", 1)[0]]


def webhooks_send(*, event: str, payload: dict | Callable[[], dict | None]) -> int:
    """Inside the write's transaction: queue one signed delivery of `payload` (a dict, or a function building it,
    called only when someone listens; None sends nothing) to every active webhook subscribed to the event's topic.
    The write pays the same few queries however many listen: one durable effect fans the body out to them. Returns
    how many webhooks listen."""
    topic = topic_of(event)
    hook_ids = [pk for pk, topics in _active_webhooks() if topic in (topics or [])]
    if not hook_ids:
        return 0
    content = payload() if callable(payload) else payload
    if content is None:
        return 0
    effect_enqueue(webhook_fan_out, event=event, body=_body(event, content), hook_ids=hook_ids)
    return len(hook_ids)


def _active_webhooks() -> list[tuple[int, list]]:
    """(id, topics) of every active webhook, in plain SQL: every vote asks this, and the ORM takes longer to build
    the query than the database to answer it."""
    quote = connection.ops.quote_name
    topics_field = Webhook._meta.get_field("topics")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, topics FROM {quote(Webhook._meta.db_table)} WHERE active")
        rows = cursor.fetchall()
    return [(pk, topics_field.from_db_value(topics, None, connection) if isinstance(topics, str) else topics)
            for pk, topics in rows]


@durable()
def webhook_fan_out(*, event: str, body: str, hook_ids: list[int]) -> list[WebhookDelivery]:
    """One delivery (the log's row) and one delivery task per webhook, once. Also called directly for a test
    event, whose delivery the admin sees at once."""
    hooks = Webhook.objects.filter(pk__in=hook_ids)
    deliveries = WebhookDelivery.objects.bulk_create([WebhookDelivery(webhook=h, event=event, body=body) for h in hooks])
    for delivery in deliveries:
        effect_enqueue(webhook_deliver, delivery_id=delivery.pk)
    return deliveries


def webhook_test_send(*, webhook: Webhook, by) -> WebhookDelivery:
    """The webhook page's "send a test event": one `ping` delivery to this webhook, logged like every other.
    Call it in a transaction."""
    content = {"test": {"webhook": webhook.pk, "sent_by": str(by), "note": "A test event from the portal."}}
    [delivery] = webhook_fan_out(event=TEST_EVENT, body=_body(TEST_EVENT, content), hook_ids=[webhook.pk])
    return delivery


def _body(event: str, content: dict) -> str:
    return json.dumps({"meta": {"event": event, "generated_at": timezone.now().isoformat()}, **content},
                      separators=(",", ":"), sort_keys=True)


class DeliveryFailed(Exception):
    """The receiver did not take the POST; `status_code` is None when it could not be reached."""

    def __init__(self, sentence: str, status_code: int | None):
        super().__init__(sentence)
        self.status_code = status_code


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _attempt_failed(*, effect, error: Exception, final: bool) -> None:
    """After each failed attempt, in the transaction that records it: the delivery log says what happened."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=effect.kwargs["delivery_id"])
    delivery.attempts = effect.attempts
    if isinstance(error, DeliveryFailed):
        delivery.last_status_code, delivery.last_error = error.status_code, str(error)[:300]
    else:  # the worker died or the database failed mid-attempt: the receiver may or may not have it
        delivery.last_status_code, delivery.last_error = None, "The attempt was interrupted; it is retried."
    if final:
        delivery.state = WebhookDelivery.State.FAILED
        log.warning("webhook delivery %s to %s failed for good: %s", delivery.pk, delivery.webhook.url,
                    delivery.last_error)
    else:
        delivery.next_attempt_at = effect.next_attempt_at
    delivery.save(update_fields=["attempts", "last_status_code", "last_error", "state", "next_attempt_at"])


@durable(atomic=False, max_attempts=MAX_ATTEMPTS, first_retry_seconds=FIRST_RETRY_SECONDS, on_error=_attempt_failed)
def webhook_deliver(*, delivery_id: int) -> None:
    """POST one delivery once; a receiver's non-2xx or silence raises DeliveryFailed (the effect retries it)."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.state != WebhookDelivery.State.PENDING:
        return  # delivered by an earlier run that died before the ledger heard
    if not delivery.webhook.active:
        delivery.state, delivery.last_error = WebhookDelivery.State.FAILED, "The webhook was switched off before this was sent."
        delivery.save(update_fields=["state", "last_error"])
        return
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "dao-portal-webhook/1",
        "X-Portal-Event": delivery.event,
        "X-Portal-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature(delivery.webhook.secret, body),
    }
    try:
        response = requests.post(delivery.webhook.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"The receiver could not be reached: {type(exc).__name__}.", None) from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"The receiver answered HTTP {response.status_code}.", response.status_code)
    delivery.attempts += 1
    delivery.state, delivery.delivered_at = WebhookDelivery.State.DELIVERED, timezone.now()
    delivery.last_status_code, delivery.last_error = response.status_code, ""
    delivery.save(update_fields=["attempts", "state", "delivered_at", "last_status_code", "last_error"])
