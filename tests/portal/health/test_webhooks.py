"""Webhooks: a real receiver on 127.0.0.1 verifies the HMAC-SHA256 signature; failures are retried with backoff by
the task queue (portal.effects), and failed deliveries are kept for admins."""

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.utils import timezone

from portal.effects.models import Effect
from portal.health import services
from portal.health.models import Webhook, WebhookDelivery
from portal.health.sampler import Sampler
from portal.health.webhooks import MAX_ATTEMPTS
from tests.webhook_receiver import verify


@pytest.mark.django_db(transaction=True)
def test_an_incident_reaches_the_receiver_signed(receiver, staff, rpc_component, run_effects):
    hook = Webhook.objects.create(url=receiver.url, description="ops")
    Webhook.objects.create(url=receiver.url, active=False)
    Webhook.objects.create(url=receiver.url, topics=["governance"])  # not subscribed to the status page
    services.incident_create(user=staff, name="RPC down", impact="critical", status="investigating", body="Looking.",
                             component_codes=[rpc_component.code])
    run_effects()  # the fan-out queued with the incident, then its one delivery
    [(headers, body)] = receiver.requests
    assert verify(hook.secret, headers, body)
    assert not verify("another secret", headers, body)
    assert headers["X-Portal-Event"] == "incident.created" and headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["incident"]["name"] == "RPC down" and payload["incident"]["status"] == "investigating"
    assert payload["page"]["status_indicator"] == "critical"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert headers["X-Portal-Delivery"] == str(delivery.pk)


@pytest.mark.django_db(transaction=True)
def test_failures_are_retried_with_backoff_and_kept_for_admins(receiver, staff, run_effects):
    Webhook.objects.create(url=receiver.url)
    receiver.answers = [500, 503]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.webhooks_enqueue(event="component.updated", payload={"component": {"id": "x"}})
        assert run_effects() == 2  # the fan-out, then the first attempt
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_error == "The receiver answered HTTP 500."
    assert delivery.next_attempt_at == start + timedelta(seconds=10)
    with time_machine.travel(start + timedelta(seconds=9), tick=False):
        assert run_effects() == 0  # not before its time
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        assert run_effects() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        2, 503, start + timedelta(seconds=40))
    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        assert run_effects() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    bodies = {body for _, body in receiver.requests}
    assert len(receiver.requests) == 3 and len(bodies) == 1  # the same signed body every time
    assert len(receiver.events()) == 1  # and the same delivery id


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_receiver_fails_for_good_after_the_last_attempt(receiver, run_effects):
    url = receiver.url
    receiver.close()
    Webhook.objects.create(url=url)
    services.webhooks_enqueue(event="component.updated", payload={})
    run_effects()  # the fan-out and the first attempt
    for _ in range(MAX_ATTEMPTS - 1):
        now = WebhookDelivery.objects.get().next_attempt_at
        with time_machine.travel(now, tick=False):
            assert run_effects() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert delivery.last_error.startswith("The receiver could not be reached")
    assert Effect.objects.get(handler__endswith="webhook_deliver").state == "failed"
    with time_machine.travel(now + timedelta(days=1), tick=False):
        assert run_effects() == 0


@pytest.mark.django_db(transaction=True)
def test_the_outbox_loop_is_gone_the_sampler_sends_nothing(receiver, staff, run_effects):
    """Webhooks used to wait for the health sampler's tick (deliver_due); now a task worker sends them."""
    import portal.health.webhooks as webhooks

    assert not hasattr(webhooks, "deliver_due")
    Webhook.objects.create(url=receiver.url)
    services.webhooks_enqueue(event="component.updated", payload={})
    Sampler().run_once(force=False)
    assert receiver.requests == []
    run_effects()
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.get().state == "delivered"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_no_webhook(receiver, staff, rpc_component, run_effects):
    from django.db import transaction

    Webhook.objects.create(url=receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.incident_create(user=staff, name="Never saved", impact="minor", status="investigating", body="x",
                                 component_codes=[rpc_component.code])
        raise RuntimeError("the write failed after the incident")
    assert not WebhookDelivery.objects.exists() and not Effect.objects.exists()
    assert run_effects() == 0 and receiver.requests == []


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
