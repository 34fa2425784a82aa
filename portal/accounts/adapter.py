"""allauth's account adapter, so its e-mail machinery (add, verify by link, make primary, remove) sends through
the portal's outbox: the same plain-text and HTML parts, one-click unsubscribe and exactly-once delivery as every
other mail."""

from uuid import uuid4

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from portal.notifications.mail import absolute, new_message_id
from portal.notifications.models import Mail
from portal.notifications.outbox import mails_queue
from portal.notifications.tokens import unsubscribe_url


class AccountAdapter(DefaultAccountAdapter):
    def send_confirmation_mail(self, request, emailconfirmation, signup: bool) -> None:
        address = emailconfirmation.email_address
        context = {
            "user": address.user,
            "activate_url": absolute(reverse("account_confirm_email", args=[emailconfirmation.key])),
            # "I never added this address": one click removes it from the account that did.
            "unsubscribe_url": unsubscribe_url(scope="address", ident=address.pk),
        }
        self.send_mail("account/email/email_confirmation", address.email, context)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        link = context.get("unsubscribe_url")
        message = self.render_mail(template_prefix, email, {**context, "site_url": absolute("")})
        html = next((body for body, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), "")
        headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"} if link else {}
        name = template_prefix.rsplit("/", 1)[-1]
        mails_queue([Mail(key=f"account:{name}:{uuid4().hex}", to=email, subject=message.subject[:300],
                          text=message.body, html=html, headers=headers, message_id=new_message_id())])

    def get_email_verification_redirect_url(self, email_address) -> str:
        return reverse("accounts:index")

