"""The development mail backend (EMAIL_URL unset): every message is kept in the site's database instead of being
sent, so the web server and the task worker share one mailbox; with DEBUG on, /dev/mail/ shows it."""

from django.core.mail.backends.base import BaseEmailBackend

from .models import CaughtMail


class CaughtMailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        rows = [
            CaughtMail(to=", ".join(message.recipients())[:1000], subject=str(message.subject)[:300],
                       message=message.message().as_string())
            for message in email_messages
        ]
        CaughtMail.objects.bulk_create(rows)
        return len(rows)
