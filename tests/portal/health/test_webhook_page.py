"""Admins manage webhooks inside the site: add, change, switch off, remove, send a test event, read the log."""

import json
from http import HTTPStatus

import pytest

from portal.health.models import Webhook, WebhookDelivery
from tests.webhook_receiver import verify

pytestmark = pytest.mark.django_db

PAGE = "/status/webhooks/"


@pytest.fixture
def admin(make_user):
    return make_user(groups=["admins"])


def test_an_admin_adds_a_webhook_and_sends_it_a_test_event(client, admin, receiver, run_effects):
    client.force_login(admin)
    assert client.get(PAGE).status_code == HTTPStatus.OK
    response = client.post(PAGE, {"url": receiver.url, "description": "Ops pager", "topics": ["governance", "status"],
                                  "active": "on"})
    assert response.status_code == HTTPStatus.FOUND
    hook = Webhook.objects.get()
    assert (hook.url, hook.description, hook.topics, hook.active) == (receiver.url, "Ops pager",
                                                                       ["status", "governance"], True)
    response = client.post(f"{PAGE}{hook.pk}/test/")
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == f"{PAGE}?webhook={hook.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "A test event is on its way" in page and "Waiting" in page  # logged at once, sent by a worker
    run_effects()
    [(headers, body)] = receiver.requests
    assert verify(hook.secret, headers, body) and headers["X-Portal-Event"] == "ping"
    assert json.loads(body)["test"]["webhook"] == hook.pk
    page = client.get(f"{PAGE}?webhook={hook.pk}").content.decode()
    assert "Delivered" in page and "HTTP 200" in page and hook.secret in page


def test_the_log_shows_a_failing_delivery_with_its_reason(client, admin, receiver, run_effects):
    hook = Webhook.objects.create(url=receiver.url, description="flaky")
    receiver.answers = [502]
    client.force_login(admin)
    client.post(f"{PAGE}{hook.pk}/test/")
    run_effects()
    page = client.get(PAGE).content.decode()
    assert "Retrying" in page and "The receiver answered HTTP 502." in page and "1 failed or retrying" in page


def test_switch_off_edit_and_remove(client, admin):
    hook = Webhook.objects.create(url="https://ops.example/hook", description="pager")
    client.force_login(admin)
    assert client.post(f"{PAGE}{hook.pk}/", {"switch": "off"}).status_code == HTTPStatus.FOUND
    hook.refresh_from_db()
    assert not hook.active and hook.url == "https://ops.example/hook" and hook.topics == ["status"]
    refused = client.post(f"{PAGE}{hook.pk}/test/")
    assert refused.status_code == HTTPStatus.CONFLICT
    assert "switched off: switch it on to send it a test event" in refused.content.decode()
    assert not WebhookDelivery.objects.exists()
    client.post(f"{PAGE}{hook.pk}/", {"url": "https://ops.example/v2", "description": "pager 2",
                                      "topics": ["feedback"], "active": "on"})
    hook.refresh_from_db()
    assert (hook.url, hook.description, hook.topics, hook.active) == ("https://ops.example/v2", "pager 2",
                                                                       ["feedback"], True)
    assert client.post(f"{PAGE}{hook.pk}/delete/").status_code == HTTPStatus.FOUND
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("fields, sentence", [
    ({"url": ""}, "Give the address the events are sent to."),
    ({"url": "not a url"}, "The address must be a full http:// or https:// URL"),
    ({"url": "ftp://ops.example/hook"}, "The address must be a full http:// or https:// URL"),
    ({"url": "https://ops.example/" + "x" * 500}, "The address is too long: at most 500 characters."),
    ({"description": "x" * 121}, "The name is too long: at most 120 characters."),
    ({"topics": []}, "Choose at least one kind of event to send."),
    ({"topics": ["status", "everything"]}, "Choose the events from the list"),
])
def test_a_bad_webhook_is_refused_with_a_sentence_and_nothing_saved(client, admin, fields, sentence):
    client.force_login(admin)
    form = {"url": "https://ops.example/hook", "description": "pager", "topics": ["status"], "active": "on", **fields}
    response = client.post(PAGE, form)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert sentence in response.content.decode()
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("who, status, sentence", [
    ("anonymous", HTTPStatus.UNAUTHORIZED, "Please sign in with an admin wallet to manage webhooks."),
    ("member", HTTPStatus.FORBIDDEN, "Only admins can manage webhooks."),
    ("moderator", HTTPStatus.FORBIDDEN, "Only admins can manage webhooks."),
])
def test_only_admins_see_or_change_webhooks(client, make_user, who, status, sentence):
    hook = Webhook.objects.create(url="https://ops.example/hook")
    if who != "anonymous":
        client.force_login(make_user(groups=["moderators"] if who == "moderator" else []))
    for response in (client.get(PAGE), client.post(PAGE, {"url": "https://evil.example/", "topics": ["status"]}),
                     client.post(f"{PAGE}{hook.pk}/test/"), client.post(f"{PAGE}{hook.pk}/delete/"),
                     client.post(f"{PAGE}{hook.pk}/", {"switch": "off"})):
        assert response.status_code == status and sentence in response.content.decode()
    assert list(Webhook.objects.values_list("url", "active")) == [("https://ops.example/hook", True)]
    assert not WebhookDelivery.objects.exists()


def test_test_events_are_rate_limited(client, admin):
    hook = Webhook.objects.create(url="https://ops.example/hook")
    client.force_login(admin)
    answers = [client.post(f"{PAGE}{hook.pk}/test/").status_code for _ in range(11)]
    assert answers == [HTTPStatus.FOUND] * 10 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert WebhookDelivery.objects.count() == 10
