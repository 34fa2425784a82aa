"""The mail outbox: compose a message once (plain text and HTML, one-click unsubscribe), queue it by its key, send
it exactly once.

Every message is a `Mail` row whose `key` names the event and the recipient, so the same event queued twice is one
row. Sending claims a row with a conditional UPDATE (pending → sending) before talking to the SMTP server, so two
workers never send one row; each row is marked sent or failed on its own. outbox.py queues and retries them as
durable effects. An SMTP 5xx for the recipient suppresses the address: nothing more goes there.
"""

from __future__ import annotations

import logging
import os
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from portal.conf import portal_settings

from .models import Mail, Suppression

log = logging.getLogger(__name__)


def site_url() -> str:
    """The origin links in mail point at: SITE_URL, else https://SIWE_DOMAIN, else the dev server."""
    conf = portal_settings()
    if conf.site_url:
        return conf.site_url.rstrip("/")
    if conf.siwe_domain:
        return f"https://{conf.siwe_domain}"
    return f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"


def absolute(path: str) -> str:
    return path if path.startswith(("http://", "https://")) else site_url() + path


def new_message_id() -> str:
    """A Message-ID on the site's domain; kept on the row, so a resend after a crash is the same message."""
    return make_msgid(domain=site_url().split("://", 1)[-1].split(":")[0].split("/")[0] or "localhost")


def mail_compose(
    *, key: str, to: str, template: str, context: dict, unsubscribe_url: str | None = None
) -> Mail:
    """An unsaved Mail rendered from `<template>_subject.txt`, `<template>.txt` and `<template>.html`. With an
    `unsubscribe_url` it carries RFC 8058's List-Unsubscribe and List-Unsubscribe-Post headers and the link."""
    context = {**context, "site_url": site_url(), "site_name": portal_settings().site_name,
               "unsubscribe_url": unsubscribe_url}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    headers = {}
    if unsubscribe_url:
        headers = {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return Mail(
        key=key[:200], to=to, subject=subject[:300], headers=headers, message_id=new_message_id(),
        text=render_to_string(f"{template}.txt", context).strip() + "\n",
        html=render_to_string(f"{template}.html", context),
    )


def suppressed(addresses: Iterable[str]) -> set[str]:
    """Which of `addresses` bounced for good."""
    lowered = {a.lower() for a in addresses}
    return set(Suppression.objects.filter(email__in=lowered).values_list("email", flat=True)) if lowered else set()


def suppression_lift(*, email: str) -> None:
    """The address was verified again: mail may go to it."""
    Suppression.objects.filter(email=email.lower()).delete()


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


class _Permanent(Exception):
    """The server refused the recipient or the message for good (5xx)."""


def _classify(exc: Exception) -> tuple[bool, str]:
    """(permanent for this address, a sentence). A 5xx to RCPT or DATA is the address's; our sender or login
    being refused, a 4xx or a broken connection is worth another try."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(exc.recipients.values()), (0, b""))
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        return code >= 500, f"The mail server refused the address: {code} {text}"
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        return False, f"The mail server refused our sender or login: {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return exc.smtp_code >= 500, f"The mail server answered {exc.smtp_code} {text}"
    return False, f"The mail server could not be reached: {type(exc).__name__}"


def _message(mail: Mail, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        mail.subject, mail.text, settings.DEFAULT_FROM_EMAIL, [mail.to],
        headers={**mail.headers, "Message-ID": mail.message_id}, connection=connection,
    )
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    return message


def _claim(mail_id: int, now: datetime) -> bool:
    """pending → sending, atomically: only one worker wins a row."""
    return Mail.objects.filter(pk=mail_id, state=Mail.State.PENDING).update(state=Mail.State.SENDING,
                                                                           claimed_at=now) == 1


def _finish(mail: Mail, **fields) -> None:
    Mail.objects.filter(pk=mail.pk, state=Mail.State.SENDING).update(**fields)


def mails_send(*, mail_ids: Iterable[int], now: datetime | None = None) -> SendReport:
    """Send these mails over one SMTP connection, each claimed and marked on its own. A mail already sent or
    being sent by another worker is skipped. Never raises for a mail server's answer: a temporary failure leaves
    the mail pending (`retried`), a permanent one fails it and suppresses the address."""
    now = now or timezone.now()
    report = SendReport()
    mails = list(Mail.objects.filter(pk__in=list(mail_ids), state=Mail.State.PENDING).order_by("pk"))
    bounced = suppressed(m.to for m in mails)
    connection = None
    try:
        for mail in mails:
            if not _claim(mail.pk, now):
                report.skipped += 1
                continue
            if mail.to.lower() in bounced:
                _finish(mail, state=Mail.State.SUPPRESSED, last_error="The address bounced before.")
                report.suppressed += 1
                continue
            attempts = mail.attempts + 1
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                _message(mail, connection).send()
            except Exception as exc:  # noqa: BLE001 — every server answer is recorded on the row, never raised
                permanent, sentence = _classify(exc)
                report.errors.append(sentence)
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:  # noqa: BLE001 — the connection is dropped either way
                        pass
                    connection = None
                if permanent:
                    with transaction.atomic():
                        _finish(mail, state=Mail.State.FAILED, attempts=attempts, last_error=sentence[:300])
                        Suppression.objects.get_or_create(email=mail.to.lower(), defaults={"reason": sentence[:300]})
                    bounced.add(mail.to.lower())
                    report.failed += 1
                else:
                    _finish(mail, state=Mail.State.PENDING, attempts=attempts, last_error=sentence[:300])
                    report.retried += 1
                log.warning("mail %s to %s: %s", mail.key, mail.to, sentence)
                continue
            _finish(mail, state=Mail.State.SENT, attempts=attempts, sent_at=timezone.now(), last_error="")
            report.sent += 1
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 — closing a connection the server already dropped
                pass
    return report
