"""`check --deploy`: without EMAIL_URL nothing is delivered (mail is only kept in the database)."""

from django.conf import settings
from django.core.checks import Warning as CheckWarning

from portal.conf import CAUGHT_MAIL_BACKEND


def email_delivery(app_configs, **kwargs):
    if settings.EMAIL_BACKEND == CAUGHT_MAIL_BACKEND and not settings.DEBUG:
        return [CheckWarning(
            "EMAIL_URL is not set: mail (verification links, status subscriptions, digests) is kept in the database "
            "and never delivered.",
            hint="Set EMAIL_URL=smtp+tls://user:password@mail.example.org:587 and DEFAULT_FROM_EMAIL.",
            id="portal.W010",
        )]
    return []
