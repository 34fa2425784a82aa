"""Webhooks: a real receiver on 127.0.0.1 verifies the HMAC-SHA256 signature; failures are retried with backoff."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from portal.health import services
from portal.health.models import Webhook, WebhookDelivery
from portal.health.webhooks import MAX_ATTEMPTS, deliver_due


class Receiver:
    """A tiny HTTP server that answers the next queued status codes (200 once they run out)."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does with the signature header."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Portal-Signature-256"])


@pytest.mark.django_db(transaction=True)
def test_an_incident_reaches_the_receiver_signed(receiver, staff, rpc_component):
    hook = Webhook.objects.create(url=receiver.url, description="ops")
    Webhook.objects.create(url=receiver.url, active=False)
    services.incident_create(user=staff, name="RPC down", impact="critical", status="investigating", body="Looking.",
                             component_codes=[rpc_component.code])
    assert deliver_due() == 1
    [(headers, body)] = receiver.requests
    assert verify(hook.secret, headers, body)
    assert not verify("another secret", headers, body)
    assert headers["X-Portal-Event"] == "incident.created" and headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["incident"]["name"] == "RPC down" and payload["incident"]["status"] == "investigating"
    assert payload["page"]["status_indicator"] == "critical"
    assert WebhookDelivery.objects.get().state == "delivered"


@pytest.mark.django_db(transaction=True)
def test_failures_are_retried_with_backoff_and_kept_for_admins(receiver, staff):
    Webhook.objects.create(url=receiver.url)
    receiver.answers = [500, 503]
    services.webhooks_enqueue(event="component.updated", payload={"component": {"id": "x"}})
    start = timezone.now()
    assert deliver_due(now=start) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_error == "The receiver answered HTTP 500."
    assert delivery.next_attempt_at == start + timedelta(seconds=10)
    assert deliver_due(now=start + timedelta(seconds=9)) == 0  # not before its time
    deliver_due(now=start + timedelta(seconds=10))
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.next_attempt_at) == (2, start + timedelta(seconds=40))
    deliver_due(now=start + timedelta(seconds=40))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    bodies = {body for _, body in receiver.requests}
    assert len(receiver.requests) == 3 and len(bodies) == 1  # the same signed body every time


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_receiver_fails_for_good_after_the_last_attempt(receiver):
    url = receiver.url
    receiver.close()
    Webhook.objects.create(url=url)
    services.webhooks_enqueue(event="component.updated", payload={})
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        deliver_due(now=now)
        now = WebhookDelivery.objects.get().next_attempt_at
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert delivery.last_error.startswith("The receiver could not be reached")
    assert deliver_due(now=now + timedelta(days=1)) == 0


@pytest.mark.django_db
def test_admins_see_failed_deliveries(admin_client, receiver):
    hook = Webhook.objects.create(url=receiver.url, description="pager")
    WebhookDelivery.objects.create(webhook=hook, event="incident.created", body="{}", state="failed", attempts=6,
                                   last_error="The receiver answered HTTP 502.")
    page = admin_client.get("/admin/health/webhook/").content.decode()
    assert "pager" in page and ">1<" in page
    detail = admin_client.get(f"/admin/health/webhook/{hook.pk}/change/").content.decode()
    assert "The receiver answered HTTP 502." in detail


@pytest.mark.django_db
def test_staff_see_failed_deliveries_on_the_status_page(client, staff, member, receiver):
    hook = Webhook.objects.create(url=receiver.url)
    WebhookDelivery.objects.create(webhook=hook, event="incident.created", body="{}", state="failed", attempts=6)
    client.force_login(member)
    assert "webhook delivery failed" not in client.get("/status/").content.decode()
    client.force_login(staff)
    assert "1 webhook delivery failed or is being retried." in client.get("/status/").content.decode()


NO_DELIVERIES = {"deliveries-TOTAL_FORMS": 0, "deliveries-INITIAL_FORMS": 0}  # the admin's inline of past deliveries


@pytest.mark.parametrize("url, sentence", [
    ("not a url", "Enter a valid URL."),
    ("", "This field is required."),
    ("https://example.com/" + "x" * 500, "Ensure this value has at most 500 characters"),
])
@pytest.mark.django_db
def test_admins_cannot_save_a_webhook_with_a_bad_url(admin_client, url, sentence):
    response = admin_client.post("/admin/health/webhook/add/",
                                 {"url": url, "secret": "s" * 48, "description": "pager", "active": "on", **NO_DELIVERIES})
    assert response.status_code == HTTPStatus.OK  # the admin shows the form again with the error
    assert sentence in response.content.decode()
    assert not Webhook.objects.exists()


@pytest.mark.django_db
def test_a_good_webhook_saves(admin_client):
    response = admin_client.post("/admin/health/webhook/add/", {"url": "https://ops.example/hook", "secret": "s" * 48,
                                                                "active": "on", **NO_DELIVERIES})
    assert response.status_code == HTTPStatus.FOUND
    assert Webhook.objects.get().url == "https://ops.example/hook"
