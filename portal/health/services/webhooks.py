"""Admins manage webhooks inside the site (the webhook page): add, change, switch on and off, remove, and send a
test event. Every refusal is a sentence and writes nothing."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from portal.accounts.roles import is_admin
from portal.errors import Conflict, Forbidden, Refusal, SignInRequired
from portal.ratelimit import Limit

from ..models import Webhook, WebhookDelivery
from ..webhooks import TOPICS, webhook_test_send

URL_MAX_LENGTH = 500
NAME_MAX_LENGTH = 120
TEST_EVENTS_PER_MINUTE = 10


def require_webhook_admin(user) -> None:
    """Raise SignInRequired or Forbidden unless `user` is an admin."""
    if not getattr(user, "is_authenticated", False):
        raise SignInRequired("Please sign in with an admin wallet to manage webhooks.")
    if not is_admin(user):
        raise Forbidden("Only admins can manage webhooks.")


@transaction.atomic
def webhook_save(*, by, url: str, description: str, topics: list[str], active: bool,
                 webhook: Webhook | None = None) -> Webhook:
    """Add a webhook (a new signing secret is made) or change `webhook`. Admins only."""
    require_webhook_admin(by)
    url = (url or "").strip()
    if not url:
        raise Refusal("Give the address the events are sent to.")
    if len(url) > URL_MAX_LENGTH:
        raise Refusal(f"The address is too long: at most {URL_MAX_LENGTH} characters.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise Refusal("The address must be a full http:// or https:// URL, like https://ops.example/hook.") from None
    description = (description or "").strip()
    if len(description) > NAME_MAX_LENGTH:
        raise Refusal(f"The name is too long: at most {NAME_MAX_LENGTH} characters.")
    chosen = set(topics or [])
    if chosen - set(TOPICS):
        raise Refusal("Choose the events from the list: status page, governance or feedback.")
    if not chosen:
        raise Refusal("Choose at least one kind of event to send.")
    hook = Webhook.objects.select_for_update().get(pk=webhook.pk) if webhook else Webhook()
    hook.url, hook.description, hook.active = url, description, active
    hook.topics = [topic for topic in TOPICS if topic in chosen]
    hook.full_clean()
    hook.save()
    return hook


@transaction.atomic
def webhook_delete(*, by, webhook: Webhook) -> None:
    """Remove a webhook and its delivery log; deliveries still queued for it find nothing and send nothing."""
    require_webhook_admin(by)
    Webhook.objects.filter(pk=webhook.pk).delete()


@transaction.atomic
def webhook_test(*, by, webhook: Webhook) -> WebhookDelivery:
    """Queue a signed `ping` to `webhook` (a worker sends it within seconds); it shows in the delivery log."""
    require_webhook_admin(by)
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if not webhook.active:
        raise Conflict("This webhook is switched off: switch it on to send it a test event.")
    Limit("webhook-test", TEST_EVENTS_PER_MINUTE, 60).hit(
        str(by.pk), message="That is a lot of test events. Please wait a minute and try again.")
    return webhook_test_send(webhook=webhook, by=by)
