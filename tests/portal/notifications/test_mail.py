"""Notifications by e-mail: channels per kind, a plain-text part and RFC 8058 one-click unsubscribe on every mail,
digests built from what happened since the last one and never twice, and a worker killed mid-batch that sends
nothing twice and loses nothing."""

import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from http import HTTPStatus
from pathlib import Path

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.effects.services import effects_sweep
from portal.health.models import Component, StatusSubscriber
from portal.health.services import incident_create
from portal.notifications.digests import digests_build, digests_due
from portal.notifications.mail import mail_compose
from portal.notifications.models import Cadence, DigestEntry, DigestRun, Kind, Mail, Preference
from portal.notifications.outbox import mails_queue
from portal.notifications.services import notify
from portal.notifications.tokens import unsubscribe_token

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def member(make_user, name, *, email=True, **choices):
    user = make_user(display_name=name)
    if email:
        EmailAddress.objects.create(user=user, email=f"{name}@example.org", verified=True, primary=True)
    for kind, cadence in choices.items():
        Preference.objects.create(user=user, kind=kind, in_app=True, email=cadence)
    return user


def unsubscribe_path(message) -> str:
    return message["List-Unsubscribe"].strip().strip("<>").replace("http://127.0.0.1:8000", "")


def test_channels_per_kind_now_digest_and_off(make_user, smtp_server, run_effects):
    now_user = member(make_user, "now", replies=Cadence.NOW)
    daily_user = member(make_user, "daily", replies=Cadence.DAILY)
    off_user = member(make_user, "off", replies=Cadence.OFF)
    no_address = member(make_user, "nomail", email=False, replies=Cadence.NOW)
    reached = notify(recipients=[now_user, daily_user, off_user, no_address], verb="comment_reply",
                     text="Bob replied to your comment", url="/discussion/1/#c2")
    assert reached == 4  # all four on the bell
    run_effects()
    assert [m["To"] for m in smtp_server.messages] == ["now@example.org"]
    message = smtp_server.messages[0]
    assert message["Subject"] == "Bob replied to your comment"
    plain = message.get_body(("plain",)).get_content()
    assert "http://127.0.0.1:8000/discussion/1/#c2" in plain and "Unsubscribe" in plain
    assert message.get_body(("html",)) is not None
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert list(DigestEntry.objects.values_list("user__display_name", "cadence")) == [("daily", "daily")]


def test_one_click_unsubscribe_turns_one_kind_off_without_signing_in(client, make_user, smtp_server, run_effects):
    alice = member(make_user, "alice", loans=Cadence.NOW, replies=Cadence.NOW)
    notify(recipients=[alice], verb="loan_risk", text="Your loan is getting close", url="/lending/")
    run_effects()
    path = unsubscribe_path(smtp_server.messages[0])
    shown = client.get(path)
    assert shown.status_code == HTTPStatus.OK and b"alerts about my loan" in shown.content
    assert Preference.objects.get(user=alice, kind=Kind.LOANS).email == Cadence.NOW  # a GET writes nothing
    done = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == HTTPStatus.OK and b"Unsubscribed." in done.content
    assert Preference.objects.get(user=alice, kind=Kind.LOANS).email == Cadence.OFF
    assert Preference.objects.get(user=alice, kind=Kind.REPLIES).email == Cadence.NOW  # only that kind
    again = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert again.status_code == HTTPStatus.GONE and b"already unsubscribed" in again.content


@pytest.mark.parametrize(("token", "status", "sentence"), [
    ("nonsense", HTTPStatus.BAD_REQUEST, b"This link is not valid"),
    ("x" * 600, HTTPStatus.BAD_REQUEST, b"This link is not valid"),
    (None, HTTPStatus.GONE, b"This unsubscribe link has expired"),
])
def test_forged_and_expired_unsubscribe_links_change_nothing(client, make_user, token, status, sentence):
    alice = member(make_user, "alice", loans=Cadence.NOW)
    if token is None:
        with time_machine.travel(timezone.now() - timedelta(days=181)):
            token = unsubscribe_token(scope="kind", ident=alice.pk, kind=Kind.LOANS)
    answer = client.post(f"/notifications/unsubscribe/{token}/")
    assert answer.status_code == status and sentence in answer.content
    assert Preference.objects.get(user=alice, kind=Kind.LOANS).email == Cadence.NOW


def test_a_tampered_unsubscribe_link_for_someone_else_is_refused(client, make_user):
    alice, bob = member(make_user, "alice", loans=Cadence.NOW), member(make_user, "bob", loans=Cadence.NOW)
    token = unsubscribe_token(scope="kind", ident=alice.pk, kind=Kind.LOANS)
    payload, rest = token.split(":", 1)
    other = unsubscribe_token(scope="kind", ident=bob.pk, kind=Kind.LOANS).split(":", 1)[0]
    answer = client.post(f"/notifications/unsubscribe/{other}:{rest}/")
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert set(Preference.objects.values_list("email", flat=True)) == {Cadence.NOW}


def test_digest_tells_what_happened_since_the_last_one_and_never_twice(client, make_user, smtp_server, run_effects):
    alice = member(make_user, "alice", replies=Cadence.DAILY, feedback=Cadence.DAILY)
    day = datetime(2026, 12, 1, 6, 0, tzinfo=dt_timezone.utc)
    with time_machine.travel(day, tick=False):
        notify(recipients=[alice], verb="comment_reply", text="First reply", url="/discussion/1/")
        notify(recipients=[alice], verb="post_status", text="Your idea is planned", url="/feedback/3/")
    with time_machine.travel(day + timedelta(hours=2), tick=False):  # 08:00, after DIGEST_HOUR
        assert digests_due() == 1
        run_effects()
        assert digests_due() == 0 and digests_build(cadence=Cadence.DAILY) == 0  # built once for the day
        notify(recipients=[alice], verb="comment_reply", text="Second reply", url="/discussion/1/")
    with time_machine.travel(day + timedelta(days=1, hours=2), tick=False):
        digests_due()
        run_effects()
    first, second = smtp_server.to("alice@example.org")
    assert first["Subject"] == "Your daily digest: 2 updates from Lending DAO Portal"
    text = first.get_body(("plain",)).get_content()
    assert "First reply" in text and "Your idea is planned" in text and "Second reply" not in text
    second_text = second.get_body(("plain",)).get_content()
    assert "Second reply" in second_text and "First reply" not in second_text
    assert second["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    client.post(unsubscribe_path(second), "List-Unsubscribe=One-Click",
                content_type="application/x-www-form-urlencoded")
    assert set(Preference.objects.filter(user=alice).values_list("email", flat=True)) == {Cadence.OFF}
    assert DigestRun.objects.count() == 2


def test_digest_building_costs_the_same_queries_per_batch(make_user):
    users = [member(make_user, f"u{i}", replies=Cadence.DAILY) for i in range(12)]
    for i in range(3):
        notify(recipients=users, verb="comment_reply", text=f"Reply {i}", url="/discussion/1/")
    counts = []
    for batch_size in (4, 6, 12):  # 3, 2, then 1 batch of the same work
        DigestEntry.objects.update(period="")
        DigestRun.objects.all().delete()
        Mail.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            assert digests_build(cadence=Cadence.DAILY, batch_size=batch_size) == 12
        counts.append(len(queries))
    # Each batch costs the same (reads, the outbox, its effect and task, savepoints), whatever its entries.
    assert counts[0] - counts[1] == counts[1] - counts[2] <= 16, counts


def _worker_env(smtp_port: int) -> dict:
    settings_db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings_db['NAME']}"
    else:
        url = (f"postgres://{settings_db['USER']}:{settings_db.get('PASSWORD') or ''}@{settings_db['HOST']}:"
               f"{settings_db['PORT'] or 5432}/{settings_db['NAME']}")
    return {**os.environ, "DATABASE_URL": url, "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "DEBUG": "1"}


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_sends_nothing_twice_and_loses_nothing(smtp_server, run_effects):
    mails = [mail_compose(key=f"test:{i}", to=f"r{i}@example.org", template="notifications/mail/notice",
                          context={"text": f"Message {i}", "url": "http://x/", "kind_label": "Test"},
                          unsubscribe_url="http://x/u/") for i in range(5)]
    assert len(mails_queue(mails)) == 5  # one effect for the batch
    smtp_server.hold_at = 3  # the worker is stopped in the middle of the third mail
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--interval", "0"],
        cwd=ROOT, env=_worker_env(smtp_server.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert smtp_server.held.wait(60), "the worker never reached the third mail"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        smtp_server.release.set()
        if worker.poll() is None:
            worker.kill()
    assert [m["Subject"] for m in smtp_server.messages] == ["Message 0", "Message 1"]
    assert Mail.objects.filter(state=Mail.State.SENT).count() == 2
    smtp_server.hold_at = None
    # The sampler's sweep finds the dead worker's task once its lease is over and queues the effect again.
    assert effects_sweep(now=timezone.now() + timedelta(seconds=601)) == 1
    run_effects()
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert subjects == [f"Message {i}" for i in range(5)]
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 5
    assert set(Mail.objects.values_list("state", flat=True)) == {Mail.State.SENT}
    assert re.fullmatch(r"<.+@127\.0\.0\.1>", smtp_server.messages[0]["Message-ID"])


def test_an_account_chooses_incident_mail_for_some_components_on_its_page(client, make_user, smtp_server,
                                                                         run_effects):
    alice = member(make_user, "alice")
    staff = make_user(staff=True, groups=["admins"])
    rpc = Component.objects.create(slug="ethereum-rpc", name="Ethereum RPC")
    pool = Component.objects.create(slug="lending-pool", name="Lending pool")
    client.force_login(alice)
    form = {f"in_app_{kind}": "on" for kind in Kind.values} | {"email_incidents": Cadence.NOW,
                                                               "components": [str(rpc.pk)]}
    assert client.post("/notifications/preferences/", form)["Location"] == "/account/"
    subscriber = StatusSubscriber.objects.get(user=alice)
    assert subscriber.email == "alice@example.org" and list(subscriber.components.all()) == [rpc]
    page = client.get("/account/")
    assert b'value="%d" checked' % rpc.pk in page.content
    incident_create(user=staff, name="RPC slow", impact="minor", status="investigating", body="x",
                    component_codes=[rpc.code])
    incident_create(user=staff, name="Pool paused", impact="major", status="identified", body="y",
                    component_codes=[pool.code])
    run_effects()
    assert [m["Subject"] for m in smtp_server.to("alice@example.org")] == ["[New incident] RPC slow — Investigating"]
    client.logout()
    client.post(unsubscribe_path(smtp_server.messages[0]))
    assert not StatusSubscriber.objects.exists()
    assert Preference.objects.get(user=alice, kind=Kind.INCIDENTS).email == Cadence.OFF
