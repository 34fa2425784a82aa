"""Status subscriptions for anyone: the API and the form, double opt-in, per component, Statuspage's mails through a
real SMTP server, one-click unsubscribe, and every bad input refused with a sentence and nothing written."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.utils import timezone

from portal.health.models import Incident, StatusSubscriber
from portal.health.services import incident_create, incident_update_post, maintenance_schedule, maintenances_advance
from portal.notifications.models import Mail

pytestmark = pytest.mark.django_db
API = "/api/v1/status/subscriptions"


def subscribe(client, email, components=(), **extra):
    return client.post(API, {"email": email, "components": list(components)}, content_type="application/json", **extra)


def link(message, pattern: str) -> str:
    text = message.get_body(("plain",)).get_content()
    found = re.search(rf"http://\S*{pattern}\S*", text)
    assert found, text
    return found.group(0).replace("http://127.0.0.1:8000", "")


def confirm(client, smtp_server, address: str) -> StatusSubscriber:
    message = smtp_server.to(address)[-1]
    url = link(message, "/status/subscribe/confirm/")
    assert client.get(url).status_code == HTTPStatus.OK  # a GET shows the button and writes nothing
    assert StatusSubscriber.objects.get(email=address).confirmed_at is None
    answer = client.post(url)
    assert answer.status_code == HTTPStatus.OK and b"Subscribed." in answer.content
    return StatusSubscriber.objects.get(email=address)


def test_double_opt_in_then_incident_mails_per_component(client, smtp_server, run_effects, staff, rpc_component,
                                                         db_component):
    answer = subscribe(client, "Ana@Example.org", [rpc_component.slug])
    assert answer.status_code == HTTPStatus.ACCEPTED and "Check your inbox" in answer.json()["detail"]
    subscribe(client, "all@example.org")
    run_effects()
    assert len(smtp_server.messages) == 2
    first = smtp_server.to("ana@example.org")[0]
    assert "Confirm your subscription" in first["Subject"]
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.get_body(("plain",)) is not None and first.get_body(("html",)) is not None

    # Nothing but the confirmation until its link is opened.
    incident_create(user=staff, name="Slow RPC", impact="minor", status="investigating", body="Looking into it.",
                    component_codes=[rpc_component.code])
    run_effects()
    assert len(smtp_server.messages) == 2

    ana = confirm(client, smtp_server, "ana@example.org")
    assert not ana.all_components and list(ana.components.all()) == [rpc_component]
    confirm(client, smtp_server, "all@example.org")

    incident = incident_create(user=staff, name="RPC down", impact="major", status="identified", body="Node crashed.",
                               component_codes=[rpc_component.code])
    db_only = incident_create(user=staff, name="DB slow", impact="minor", status="investigating", body="Vacuum.",
                              component_codes=[db_component.code])
    incident_update_post(user=staff, incident=incident, status="resolved", body="Back to normal.")
    run_effects()
    to_ana = [m["Subject"] for m in smtp_server.to("ana@example.org")[1:]]
    assert to_ana == ["[New incident] RPC down — Identified", "[Incident resolved] RPC down — Resolved"]
    to_all = [m["Subject"] for m in smtp_server.to("all@example.org")[1:]]
    assert "[New incident] DB slow — Investigating" in to_all and len(to_all) == 3
    resolved = smtp_server.to("ana@example.org")[-1]
    assert "Back to normal." in resolved.get_body(("plain",)).get_content()
    assert resolved["List-Unsubscribe"].strip().startswith("<http") and resolved["List-Unsubscribe-Post"]
    assert db_only.pk  # its mail went to the all-components subscriber only

    # The same update published again (a retried task) sends nothing twice.
    run_effects()
    assert len(smtp_server.to("ana@example.org")) == 3


def test_maintenance_scheduled_started_completed_mails(client, smtp_server, run_effects, staff, rpc_component):
    subscribe(client, "ops@example.org")
    run_effects()
    confirm(client, smtp_server, "ops@example.org")
    start = timezone.now() + timedelta(hours=1)
    maintenance_schedule(user=staff, name="Node upgrade", body="Upgrading the node.",
                         component_codes=[rpc_component.code], scheduled_for=start,
                         scheduled_until=start + timedelta(hours=1))
    for moment in (start + timedelta(minutes=1), start + timedelta(hours=1, minutes=1)):
        with time_machine.travel(moment, tick=False):
            maintenances_advance()
    run_effects()
    subjects = [m["Subject"] for m in smtp_server.to("ops@example.org")[1:]]
    assert subjects == ["[Scheduled maintenance] Node upgrade", "[Maintenance started] Node upgrade",
                        "[Maintenance completed] Node upgrade"]


def test_one_click_unsubscribe_works_signed_out_and_once(client, smtp_server, run_effects, staff, rpc_component):
    subscribe(client, "bye@example.org")
    run_effects()
    confirm(client, smtp_server, "bye@example.org")
    incident_create(user=staff, name="Blip", impact="minor", status="investigating", body="Hm.",
                    component_codes=[rpc_component.code])
    run_effects()
    message = smtp_server.to("bye@example.org")[-1]
    target = message["List-Unsubscribe"].strip().strip("<>").replace("http://127.0.0.1:8000", "")
    # RFC 8058: the mail client POSTs this body, without cookies or a CSRF token.
    answer = client.post(target, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert answer.status_code == HTTPStatus.OK and b"Unsubscribed." in answer.content
    assert not StatusSubscriber.objects.filter(email="bye@example.org").exists()
    again = client.post(target, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert again.status_code == HTTPStatus.GONE and b"already unsubscribed" in again.content
    incident_create(user=staff, name="Blip 2", impact="minor", status="investigating", body="Hm.",
                    component_codes=[rpc_component.code])
    run_effects()
    assert smtp_server.to("bye@example.org")[-1]["Subject"] == message["Subject"]


@pytest.mark.parametrize(("email", "components", "status", "sentence"), [
    ("not-an-address", [], HTTPStatus.BAD_REQUEST, "is not an e-mail address"),
    ("a@b", [], HTTPStatus.BAD_REQUEST, "is not an e-mail address"),
    ("x" * 250 + "@example.org", [], HTTPStatus.BAD_REQUEST, "is not an e-mail address"),
    ("ok@example.org", ["no-such-component"], HTTPStatus.BAD_REQUEST, "There is no component called “no-such-component”"),
    ("ok@example.org", "api", HTTPStatus.BAD_REQUEST, "The field “components” must be a list."),
])
def test_bad_subscription_input_is_refused_and_writes_nothing(client, rpc_component, email, components, status,
                                                              sentence):
    answer = client.post(API, {"email": email, "components": components}, content_type="application/json")
    assert answer.status_code == status
    assert sentence in answer.json()["error"]
    assert not StatusSubscriber.objects.exists() and not Mail.objects.exists()


def test_a_thousand_requests_for_one_address_mail_once_and_are_rate_limited(client, smtp_server, run_effects):
    answers = [subscribe(client, "flood@example.org").status_code for _ in range(1000)]
    assert answers.count(HTTPStatus.ACCEPTED) == 5 and answers.count(HTTPStatus.TOO_MANY_REQUESTS) == 995
    refused = subscribe(client, "flood@example.org")
    assert "Too many subscription requests for this address" in refused.json()["error"] and refused["Retry-After"]
    run_effects()
    assert len(smtp_server.to("flood@example.org")) == 1
    assert Mail.objects.count() == 1 and StatusSubscriber.objects.get().request_no == 1


def test_confirmation_links_forged_reused_replaced_and_expired(client, smtp_server, run_effects, rpc_component):
    subscribe(client, "link@example.org")
    run_effects()
    url = link(smtp_server.to("link@example.org")[0], "/status/subscribe/confirm/")
    forged = client.post(url[:-3] + "xx/")
    assert forged.status_code == HTTPStatus.BAD_REQUEST and b"This link is not valid" in forged.content
    assert StatusSubscriber.objects.get().confirmed_at is None
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        expired = client.post(url)
    assert expired.status_code == HTTPStatus.GONE and b"has expired" in expired.content
    assert StatusSubscriber.objects.get().confirmed_at is None
    assert client.post(url).status_code == HTTPStatus.OK
    reused = client.post(url)
    assert reused.status_code == HTTPStatus.GONE and b"already used" in reused.content

    # A new request (other components) replaces the link mailed before it.
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        subscribe(client, "link@example.org", [rpc_component.slug])
        run_effects()
    newer = link(smtp_server.to("link@example.org")[-1], "/status/subscribe/confirm/")
    assert newer != url
    assert StatusSubscriber.objects.get().all_components  # unchanged until the new link is opened
    assert client.post(newer).status_code == HTTPStatus.OK
    assert not StatusSubscriber.objects.get().all_components


def test_the_status_page_form_subscribes_and_shows_a_sentence_for_bad_input(client, smtp_server, run_effects,
                                                                           rpc_component):
    page = client.get("/status/")
    assert b'data-testid="subscribe-card"' in page.content
    bad = client.post("/status/subscribe/", {"email": "nope", "scope": "all"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST and b"is not an e-mail address" in bad.content
    assert not StatusSubscriber.objects.exists()
    done = client.post("/status/subscribe/", {"email": "form@example.org", "scope": "some",
                                              "components": [rpc_component.slug]})
    assert done.status_code == HTTPStatus.FOUND and done["Location"] == "/status/subscribe/sent/"
    run_effects()
    assert confirm(client, smtp_server, "form@example.org").components.get() == rpc_component


def test_component_atom_feed_lists_only_its_incidents(client, staff, rpc_component, db_component):
    incident_create(user=staff, name="RPC trouble", impact="minor", status="investigating", body="x",
                    component_codes=[rpc_component.code])
    incident_create(user=staff, name="DB trouble", impact="minor", status="investigating", body="y",
                    component_codes=[db_component.code])
    feed = client.get(f"/status/components/{rpc_component.slug}/history.atom")
    assert feed.status_code == HTTPStatus.OK and feed["Content-Type"].startswith("application/atom+xml")
    assert b"RPC trouble" in feed.content and b"DB trouble" not in feed.content
    assert client.get("/status/components/nope/history.atom").status_code == HTTPStatus.NOT_FOUND
    assert Incident.objects.count() == 2
