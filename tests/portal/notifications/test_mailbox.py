"""EMAIL_URL as CONTRACT spells it, and the development mailbox: unset, mail is kept in the database and shown
at /dev/mail/ with DEBUG on only."""

import re
from http import HTTPStatus

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives

from portal.conf import CAUGHT_MAIL_BACKEND, email_settings
from portal.notifications.models import CaughtMail


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mailer:s%40cret@mail.example.org:2525",
     {"EMAIL_HOST": "mail.example.org", "EMAIL_PORT": 2525, "EMAIL_HOST_USER": "mailer",
      "EMAIL_HOST_PASSWORD": "s@cret", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False}),
    ("smtp+tls://u:p@mail.example.org", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False}),
    ("smtps://u:p@mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True}),
    ("smtp://mail.example.org", {"EMAIL_PORT": 25, "EMAIL_HOST_USER": "", "EMAIL_HOST_PASSWORD": ""}),
])
def test_email_url_schemes(url, expected):
    parsed = email_settings(url)
    assert parsed["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert {key: parsed[key] for key in expected} == expected


@pytest.mark.parametrize(("url", "sentence"), [
    ("http://mail.example.org", "EMAIL_URL must start with smtp://, smtp+tls:// or smtps://"),
    ("smtp://mail.example.org:port", "EMAIL_URL has a port that is not a number"),
    ("smtp://", "EMAIL_URL names no host"),
])
def test_a_bad_email_url_is_a_sentence(url, sentence):
    with pytest.raises(ImproperlyConfigured, match=re.escape(sentence)):
        email_settings(url)


def test_unset_email_url_keeps_mail_in_the_database():
    assert email_settings("") == {"EMAIL_BACKEND": CAUGHT_MAIL_BACKEND}


@pytest.mark.django_db
def test_the_development_mailbox_shows_caught_mail_with_debug_only(client, settings):
    settings.EMAIL_BACKEND = CAUGHT_MAIL_BACKEND
    message = EmailMultiAlternatives("Grüße from the portal", "Plain “text” body", "portal@localhost", ["a@example.org"])
    message.attach_alternative("<p>HTML “body”</p>", "text/html")
    assert message.send() == 1
    caught = CaughtMail.objects.get()
    settings.DEBUG = True
    listing = client.get("/dev/mail/")
    assert listing.status_code == HTTPStatus.OK and "Grüße from the portal" in listing.content.decode()
    detail = client.get(f"/dev/mail/{caught.pk}/").content.decode()
    assert "Plain “text” body" in detail  # parsed as bytes: no \u escapes
    html = client.get(f"/dev/mail/{caught.pk}/html/")
    assert "HTML “body”" in html.content.decode() and "sandbox" in html["Content-Security-Policy"]
    settings.DEBUG = False
    for path in ("/dev/mail/", f"/dev/mail/{caught.pk}/", f"/dev/mail/{caught.pk}/html/"):
        assert client.get(path).status_code == HTTPStatus.NOT_FOUND
