"""E-mail on an account through allauth's machinery, over a real SMTP server: add, verify by link, make primary,
remove; every bad input and bad link answers a sentence and its status with nothing written; an address whose
server refuses it for good stops getting mail and the account page says so."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.utils import timezone

from portal.notifications.models import Cadence, Kind, Mail, Preference, Suppression
from portal.notifications.services import notify

pytestmark = pytest.mark.django_db


def verification_link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://\S+/accounts/confirm-email/\S+/", text).group(0).replace("http://127.0.0.1:8000", "")


def add(client, email):
    return client.post("/account/email/", {"action": "add", "email": email})


def test_add_verify_make_primary_and_remove(client, make_user, smtp_server, run_effects):
    alice = make_user(display_name="alice", signed_in_client=client)
    assert add(client, "Alice@Example.org")["Location"] == "/account/"
    run_effects()
    message = smtp_server.to("alice@example.org")[0]
    assert "Verify your e-mail address" in message["Subject"]
    assert message.get_body(("plain",)) and message.get_body(("html",))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = verification_link(message)

    client.logout()  # the link works signed out; its GET only asks
    page = client.get(link)
    assert page.status_code == HTTPStatus.OK and b"alice@example.org" in page.content
    assert not EmailAddress.objects.get().verified
    done = client.post(link)
    assert done.status_code == HTTPStatus.OK and b"is verified" in done.content
    address = EmailAddress.objects.get()
    assert address.verified and address.primary and address.user == alice

    client.force_login(alice)
    add(client, "second@example.org")
    run_effects()
    client.post(verification_link(smtp_server.to("second@example.org")[0]))
    assert client.post("/account/email/", {"action": "primary", "email": "second@example.org"}).status_code == 302
    assert EmailAddress.objects.get(primary=True).email == "second@example.org"
    refused = client.post("/account/email/", {"action": "remove", "email": "second@example.org"})
    assert refused.status_code == HTTPStatus.CONFLICT and b"Make another address primary" in refused.content
    assert client.post("/account/email/", {"action": "remove", "email": "alice@example.org"}).status_code == 302
    assert list(EmailAddress.objects.values_list("email", flat=True)) == ["second@example.org"]
    page = client.get("/account/")
    assert b"second@example.org" in page.content and b"verified" in page.content


@pytest.mark.parametrize("email", ["not an address", "a@", "@example.org", "x" * 250 + "@example.org", ""])
def test_malformed_address_is_refused_and_nothing_written(client, make_user, email):
    make_user(signed_in_client=client)
    answer = add(client, email)
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert b"That is not an e-mail address we can send to" in answer.content
    assert not EmailAddress.objects.exists() and not Mail.objects.exists()


def test_address_verified_by_another_account_is_refused(client, make_user):
    bob = make_user(display_name="bob")
    EmailAddress.objects.create(user=bob, email="shared@example.org", verified=True, primary=True)
    make_user(display_name="alice", signed_in_client=client)
    answer = add(client, "Shared@example.org")
    assert answer.status_code == HTTPStatus.CONFLICT
    assert b"already verified by another account" in answer.content
    assert EmailAddress.objects.count() == 1 and not Mail.objects.exists()


def test_an_unverified_address_elsewhere_does_not_block_its_owner(client, make_user, smtp_server, run_effects):
    squatter = make_user(display_name="squatter")
    EmailAddress.objects.create(user=squatter, email="mine@example.org", verified=False)
    owner = make_user(display_name="owner", signed_in_client=client)
    assert add(client, "mine@example.org").status_code == HTTPStatus.FOUND
    run_effects()
    links = [verification_link(m) for m in smtp_server.to("mine@example.org")]
    assert client.post(links[-1]).status_code == HTTPStatus.OK
    assert EmailAddress.objects.get(verified=True).user == owner


def test_verification_links_forged_expired_reused_and_taken(client, make_user, smtp_server, run_effects):
    alice = make_user(display_name="alice", signed_in_client=client)
    add(client, "alice@example.org")
    run_effects()
    link = verification_link(smtp_server.to("alice@example.org")[0])
    forged = client.post(link[:-4] + "abc/")
    assert forged.status_code == HTTPStatus.BAD_REQUEST and b"This verification link is not valid" in forged.content
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        expired = client.post(link)
    assert expired.status_code == HTTPStatus.GONE and b"has expired" in expired.content
    assert not EmailAddress.objects.get().verified

    # Someone else verified the address first: this link can no longer verify it.
    bob = make_user(display_name="bob")
    taken = EmailAddress.objects.create(user=bob, email="alice@example.org", verified=True)
    conflict = client.post(link)
    assert conflict.status_code == HTTPStatus.CONFLICT and b"already verified by another account" in conflict.content
    assert not EmailAddress.objects.get(user=alice).verified
    taken.delete()

    assert client.post(link).status_code == HTTPStatus.OK
    reused = client.post(link)
    assert reused.status_code == HTTPStatus.GONE and b"already used" in reused.content


def test_a_permanent_failure_stops_mail_and_shows_a_notice(client, make_user, smtp_server, run_effects):
    alice = make_user(display_name="alice", signed_in_client=client)
    EmailAddress.objects.create(user=alice, email="gone@example.org", verified=True, primary=True)
    Preference.objects.create(user=alice, kind=Kind.LOANS, in_app=True, email=Cadence.NOW)
    smtp_server.refuse["gone@example.org"] = "550 5.1.1 The mailbox does not exist"
    notify(recipients=[alice], verb="loan_risk", text="Your health factor is 1.08", url="/lending/")
    run_effects()
    mail = Mail.objects.get()
    assert mail.state == Mail.State.FAILED and "550" in mail.last_error
    assert Suppression.objects.filter(email="gone@example.org").exists()
    page = client.get("/account/")
    assert b'data-testid="bounce-notice"' in page.content and b"We stopped sending e-mail to" in page.content

    # Nothing more is sent there: the bell still rings, the outbox stays quiet.
    assert notify(recipients=[alice], verb="loan_risk", text="Your health factor is 1.02", url="/lending/") == 1
    run_effects()
    assert Mail.objects.count() == 1 and smtp_server.messages == []


def test_a_temporary_failure_is_retried(client, make_user, smtp_server, run_effects):
    alice = make_user(display_name="alice")
    EmailAddress.objects.create(user=alice, email="later@example.org", verified=True, primary=True)
    smtp_server.refuse["later@example.org"] = "451 4.7.1 Try again later"
    notify(recipients=[alice], verb="liquidated", text="Your loan was liquidated", url="/lending/")
    run_effects()
    assert Mail.objects.get().state == Mail.State.PENDING and not Suppression.objects.exists()
    del smtp_server.refuse["later@example.org"]
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        run_effects()
    assert Mail.objects.get().state == Mail.State.SENT
    assert [m["Subject"] for m in smtp_server.messages] == ["Your loan was liquidated"]
