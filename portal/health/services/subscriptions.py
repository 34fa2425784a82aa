"""E-mail subscriptions to the status page, for anyone: double opt-in, per component or all of them, and the mails
Statuspage sends (incident created, updated, resolved; maintenance scheduled, started, completed).

A request changes nothing until the link mailed for it is opened. Requests for one address are rate-limited, and
an identical request inside the resend window mails nothing: a thousand requests send one confirmation."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from portal.conf import portal_settings
from portal.errors import Conflict, Refusal
from portal.notifications.mail import absolute, mail_compose, suppressed
from portal.effects.services import durable, effect_enqueue
from portal.notifications.models import Cadence, DigestEntry, Kind
from portal.notifications.selectors import mail_addresses, preferences_of
from portal.notifications.services import email_unsubscribe
from portal.notifications.outbox import mails_queue
from portal.notifications.tokens import confirm_read, confirm_token, unsubscribe_url
from portal.parsing import parse_email
from portal.ratelimit import Limit

from ..models import Component, Incident, IncidentUpdate, StatusSubscriber

MAX_COMPONENTS = 100


def components_by_slug(slugs) -> list[Component]:
    """The components named, or a sentence naming the first that does not exist. Empty: all of them."""
    if not isinstance(slugs, list) or len(slugs) > MAX_COMPONENTS or not all(isinstance(s, str) for s in slugs):
        raise Refusal("components must be a list of component names (slugs), e.g. [\"api\", \"lending-pool\"].")
    wanted = list(dict.fromkeys(s.strip() for s in slugs))
    found = {c.slug: c for c in Component.objects.filter(slug__in=wanted)}
    for slug in wanted:
        if slug not in found:
            raise Refusal(f"There is no component called “{slug[:60]}” on the status page.")
    return [found[s] for s in wanted]


def status_subscribe(*, email, component_slugs, ip: str) -> None:
    """Ask to receive status mail; mails a confirmation link unless an identical request was mailed within the
    resend window. Refusals: a malformed address or unknown component (400), too many requests (429); nothing is
    written then. The answer never says whether the address was subscribed already."""
    conf = portal_settings()
    address = parse_email(email)
    components = components_by_slug(component_slugs)
    Limit("status-subscribe-address", conf.status_subscriptions_per_address_per_hour, 3600).hit(
        address, message="Too many subscription requests for this address. Please try again in an hour.")
    Limit("status-subscribe-ip", conf.status_subscriptions_per_ip_per_hour, 3600).hit(
        ip, message="Too many subscription requests from your network. Please try again in an hour.")
    wanted_all = not components
    wanted_ids = sorted(c.pk for c in components)
    now = timezone.now()
    with transaction.atomic():
        subscriber, _ = StatusSubscriber.objects.select_for_update().get_or_create(email=address)
        same = subscriber.requested_all == wanted_all and sorted(subscriber.requested_components) == wanted_ids
        recent = subscriber.requested_at and now - subscriber.requested_at < timedelta(
            seconds=conf.status_confirmation_resend_seconds)
        if same and (recent or _already(subscriber)):
            return  # mailed a moment ago, or already what they asked for: nothing twice
        subscriber.requested_all, subscriber.requested_components = wanted_all, wanted_ids
        subscriber.request_no += 1
        subscriber.requested_at = now
        subscriber.save()
        if suppressed([address]):
            return
        token = confirm_token(subscriber_id=subscriber.pk, request_no=subscriber.request_no)
        mails_queue([mail_compose(
            key=f"status-confirm:{subscriber.pk}:{subscriber.request_no}", to=address,
            template="health/mail/confirm",
            context={"components": components, "confirm_url": absolute(reverse("health:subscription-confirm",
                                                                               args=[token]))},
            unsubscribe_url=unsubscribe_url(scope="status", ident=subscriber.pk),
        )])


def _already(subscriber: StatusSubscriber) -> bool:
    """The confirmed subscription is already what is asked for."""
    if not subscriber.is_active or subscriber.confirmed_request_no != subscriber.request_no:
        return False
    return True


@transaction.atomic
def status_subscription_confirm(*, token: str) -> StatusSubscriber:
    """Open a confirmation link: the request it was mailed for becomes the subscription. Refusals: forged (400),
    expired, already used or replaced by a newer request (410), unsubscribed since (404)."""
    ident, number = confirm_read(token)
    subscriber = StatusSubscriber.objects.select_for_update().filter(pk=ident).first()
    if subscriber is None or number > subscriber.request_no:
        raise Refusal("This confirmation link is no longer valid: the subscription was removed.", HTTPStatus.NOT_FOUND)
    if number == subscriber.confirmed_request_no:
        raise Refusal("This link was already used: the subscription is confirmed.", HTTPStatus.GONE)
    if number < subscriber.request_no:
        raise Refusal("A newer confirmation link was mailed to this address; please use that one.", HTTPStatus.GONE)
    components = list(Component.objects.filter(pk__in=subscriber.requested_components))
    subscriber.all_components = subscriber.requested_all or not components
    subscriber.confirmed_at = timezone.now()
    subscriber.confirmed_request_no = number
    subscriber.save()
    subscriber.components.set([] if subscriber.all_components else components)
    return subscriber


@transaction.atomic
def status_unsubscribe(*, subscriber_id: int) -> None:
    """A one-click link: the subscription (and any pending request) is gone, and an account's incident e-mail is
    off, so saving its settings does not bring it back. Conflict when it was gone already."""
    subscriber = StatusSubscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None:
        raise Conflict("You are already unsubscribed: no more status mail goes to this address.", HTTPStatus.GONE)
    if subscriber.user_id:
        email_unsubscribe(user_id=subscriber.user_id, kind=Kind.INCIDENTS)
    subscriber.delete()


@transaction.atomic
def account_status_subscription_set(*, user, email: str | None, components: list[Component] | None) -> None:
    """An account's own subscription at its verified address: no link needed. `components` None removes it;
    an empty list means every component."""
    if components is None or not email:
        StatusSubscriber.objects.filter(user=user).delete()
        return
    StatusSubscriber.objects.filter(user=user).exclude(email=email.lower()).delete()
    ids = sorted(c.pk for c in components)
    subscriber, _ = StatusSubscriber.objects.update_or_create(email=email.lower(), defaults={
        "user": user, "all_components": not ids, "requested_all": not ids, "requested_components": ids,
        "confirmed_at": timezone.now(),
    })
    subscriber.confirmed_request_no = subscriber.request_no
    subscriber.save(update_fields=["confirmed_request_no"])
    subscriber.components.set(components)


EVENT_HEADLINES = {
    ("incident", "created"): "New incident",
    ("incident", "resolved"): "Incident resolved",
    ("incident", "updated"): "Incident update",
    ("maintenance", "scheduled"): "Scheduled maintenance",
    ("maintenance", "in_progress"): "Maintenance started",
    ("maintenance", "completed"): "Maintenance completed",
    ("maintenance", "updated"): "Maintenance update",
}


def _headline(incident: Incident, update: IncidentUpdate, event: str) -> str:
    """What this update announces, from the update itself (its mail may leave after later updates)."""
    if incident.is_maintenance:
        step = update.status if update.status in ("scheduled", "in_progress", "completed") else "updated"
        return EVENT_HEADLINES[("maintenance", step)]
    if event == "incident.created":
        return EVENT_HEADLINES[("incident", "created")]
    return EVENT_HEADLINES[("incident", "resolved" if update.status in ("resolved", "postmortem") else "updated")]


def status_mails_enqueue(*, incident: Incident, event: str) -> None:
    """Inside the write's transaction: queue the subscribers' mail for the incident's newest update, once per
    update (a durable effect keyed by the update)."""
    latest = incident.updates.order_by("-pk").values_list("pk", "code").first()
    if latest is not None and not incident.draft:
        effect_enqueue(status_mails_deliver, key=f"status-mail:{latest[1]}", incident_id=incident.pk,
                       update_id=latest[0], event=event)


@durable(max_attempts=6, first_retry_seconds=10)
def status_mails_deliver(*, incident_id: int, update_id: int, event: str) -> int:
    """The effect: in one transaction, every subscriber's mail (and its sending) is queued, or none is."""
    incident = (Incident.objects.filter(pk=incident_id, draft=False).prefetch_related("components").first())
    update = IncidentUpdate.objects.filter(pk=update_id, incident_id=incident_id).first()
    if incident is None or update is None:  # a draft again, or gone since
        return 0
    return status_mails_send(incident=incident, update=update, event=event)


def status_mails_send(*, incident: Incident, update: IncidentUpdate, event: str) -> int:
    """Mail one update of a published incident to every confirmed subscriber of its components (an account that
    chose a digest for incidents gets a digest entry instead). Keyed by update and subscriber: a second call for the
    same update sends nothing twice. Returns how many were queued. A constant number of queries."""
    component_ids = [c.pk for c in incident.components.all()]
    subscribers = list(
        StatusSubscriber.objects.filter(confirmed_at__isnull=False)
        .filter(Q(all_components=True) | Q(components__in=component_ids)).distinct()
    )
    if not subscribers:
        return 0
    account_ids = [s.user_id for s in subscribers if s.user_id]
    cadence = preferences_of(user_ids=account_ids, kind=Kind.INCIDENTS)
    current = mail_addresses(user_ids=account_ids)  # an account's mail follows its primary verified address
    for subscriber in subscribers:
        if subscriber.user_id:
            subscriber.email = current.get(subscriber.user_id, "")
    subscribers = [s for s in subscribers if s.email]
    bounced = suppressed(s.email for s in subscribers)
    headline = _headline(incident, update, event)
    url = reverse("health:incident", args=[incident.code])
    context = {"incident": incident, "update": update, "headline": headline, "url": absolute(url),
               "components": list(incident.components.all()), "status_url": absolute(reverse("health:index"))}
    mails, entries = [], []
    for subscriber in subscribers:
        if subscriber.email in bounced:
            continue
        chosen = cadence.get(subscriber.user_id, (True, Cadence.NOW))[1] if subscriber.user_id else Cadence.NOW
        if chosen == Cadence.OFF:
            continue
        if chosen in (Cadence.DAILY, Cadence.WEEKLY):
            entries.append(DigestEntry(user_id=subscriber.user_id, cadence=chosen, kind=Kind.INCIDENTS,
                                       text=f"{headline}: {incident.name} — {update.body[:200]}"[:300], url=url,
                                       key=f"status:{update.code}"))
            continue
        mails.append(mail_compose(
            key=f"status:{update.code}:{subscriber.pk}", to=subscriber.email, template="health/mail/incident",
            context=context, unsubscribe_url=unsubscribe_url(scope="status", ident=subscriber.pk),
        ))
    DigestEntry.objects.bulk_create(entries, ignore_conflicts=True)
    return len(mails_queue(mails)) + len(entries)
