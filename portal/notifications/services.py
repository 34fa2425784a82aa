"""Writes for notifications. Services call `notify_later` inside their write's transaction: the notification is a
durable effect (portal.effects), delivered exactly once per recipient even when a worker dies mid-task. `notify`
delivers at once (effect handlers call it) on the channels each recipient chose for the verb's kind: the bell (live
after commit, through live.py), an e-mail at once, or an entry in their next daily or weekly digest."""

import uuid
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from portal.effects.services import durable, effect_enqueue

from . import live
from .mail import absolute, mail_compose
from .models import KIND_OF_VERB, Cadence, DigestEntry, Kind, Notification, Preference, Verb
from .outbox import mails_queue
from .selectors import mail_addresses, preferences_of
from .tokens import unsubscribe_url


def notify_later(*, recipients: Iterable, verb: str, text: str, url: str, actor=None, key: str | None = None) -> bool:
    """Queue `notify(...)` in the caller's transaction: it happens if and only if that transaction commits, once per
    recipient and `key` (a fresh key when None), retried if it fails. Returns False when there is nobody to tell or
    `key` was queued before. Raises ValueError for an unknown verb."""
    _check_verb(verb)
    recipient_ids = sorted({user.pk for user in recipients if user is not None and getattr(user, "pk", None)})
    if not recipient_ids:
        return False
    effect_key = f"notify:{key}" if key else None  # None: a fresh one, no clash possible (no savepoint needed)
    return effect_enqueue(notification_deliver, key=effect_key, recipient_ids=recipient_ids, verb=verb,
                          text=text[:300], url=url[:500], actor_id=getattr(actor, "pk", None),
                          delivery_key=effect_key or f"notify:{uuid.uuid4().hex}")


@durable(eager=True)
def notification_deliver(*, recipient_ids: list[int], verb: str, text: str, url: str, actor_id: int | None,
                         delivery_key: str) -> int:
    """The effect behind `notify_later`: users who turned the kind off since, or were deleted, are skipped."""
    users = get_user_model().objects
    actor = users.filter(pk=actor_id).first() if actor_id else None
    return notify(recipients=users.filter(pk__in=recipient_ids), verb=verb, text=text, url=url, actor=actor,
                  key=delivery_key)


def notify(*, recipients: Iterable, verb: str, text: str, url: str, actor=None, key: str = "") -> int:
    """Tell each recipient now, on the channels they chose for the verb's kind (defaults: models.DEFAULTS).

    Skips the actor, anonymous/duplicate recipients and, with a `key`, whoever was told of that key already (on
    any channel: the bell, the outbox and the digest entries are each unique per recipient and key). Returns how
    many recipients were reached on some channel. Raises ValueError for an unknown verb (a programming error, not
    user input). A constant number of queries for any number of recipients.
    """
    _check_verb(verb)
    by_id = {}
    for user in recipients:
        if user is None or not getattr(user, "pk", None):
            continue
        if actor is not None and user.pk == actor.pk:
            continue
        by_id[user.pk] = user
    if not by_id:
        return 0
    kind = KIND_OF_VERB[verb]
    with transaction.atomic(savepoint=False):  # all channels or none; no savepoint inside an effect's transaction
        channels = preferences_of(user_ids=list(by_id), kind=kind)
        in_app = [uid for uid, (bell, _) in channels.items() if bell]
        wants_mail = {uid: cadence for uid, (_, cadence) in channels.items() if cadence != Cadence.OFF}
        reached = set(_bell(in_app, verb=verb, text=text, url=url, actor=actor, key=key))
        if wants_mail:
            reached |= _mail(wants_mail, kind=kind, text=text, url=url, key=key)
    return len(reached)


def _check_verb(verb: str) -> None:
    if verb not in Verb.values:
        raise ValueError(f"Unknown notification verb {verb!r}; add it to portal.notifications.models.Verb.")


def _bell(user_ids: list[int], *, verb: str, text: str, url: str, actor, key: str) -> list[int]:
    if key and user_ids:
        told = set(Notification.objects.filter(key=key, recipient_id__in=user_ids).values_list("recipient_id", flat=True))
        user_ids = [uid for uid in user_ids if uid not in told]
    if not user_ids:
        return []
    now = timezone.now()
    rows = [Notification(recipient_id=uid, actor=actor, verb=verb, text=text[:300], url=url[:500], created=now, key=key)
            for uid in user_ids]
    for row in rows:
        row.full_clean(exclude=["recipient", "actor"])
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if len(ids) != len(created):  # a backend without RETURNING: find this batch again
        ids = list(Notification.objects.filter(recipient_id__in=user_ids, verb=verb, created=now)
                   .values_list("pk", flat=True))
    live.notification_broadcast(notification_ids=ids, recipient_ids=user_ids)
    return user_ids


def _mail(cadences: dict[int, str], *, kind: str, text: str, url: str, key: str) -> set[int]:
    """E-mail now, or a digest entry, for the users with a usable address (verified, primary, not bounced)."""
    addresses = mail_addresses(user_ids=list(cadences))
    event = key or uuid.uuid4().hex
    now_mails, entries = [], []
    for uid, address in addresses.items():
        if cadences[uid] == Cadence.NOW:
            now_mails.append(mail_compose(
                key=f"notify:{event}:{uid}", to=address, template="notifications/mail/notice",
                context={"text": text, "url": absolute(url), "kind_label": Kind(kind).label},
                unsubscribe_url=unsubscribe_url(scope="kind", ident=uid, kind=kind),
            ))
        else:
            entries.append(DigestEntry(user_id=uid, cadence=cadences[uid], kind=kind, text=text[:300], url=url[:500],
                                       key=key))
    mails_queue(now_mails)
    DigestEntry.objects.bulk_create(entries, batch_size=500, ignore_conflicts=bool(key))
    return set(addresses)


def notification_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when `notification_ids` is None). Returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    changed = qs.update(read_at=timezone.now())
    if changed:
        live.notification_count_broadcast(user_id=user.pk)
    return changed


@transaction.atomic
def notification_preferences_set(*, user, choices: dict[str, tuple[bool, str]]) -> None:
    """Save the user's channels per kind: `{kind: (in_app, cadence)}`. Unknown kinds and cadences are ignored
    (a form that was changed by hand)."""
    for kind, (in_app, cadence) in choices.items():
        if kind not in Kind.values or cadence not in Cadence.values:
            continue
        Preference.objects.update_or_create(user=user, kind=kind, defaults={"in_app": bool(in_app), "email": cadence})


def email_unsubscribe(*, user_id: int, kind: str) -> bool:
    """One kind's e-mail off for the user (a one-click link). False when it was off already."""
    with transaction.atomic():
        in_app, cadence = preferences_of(user_ids=[user_id], kind=kind)[user_id]
        if cadence == Cadence.OFF:
            return False
        Preference.objects.update_or_create(user_id=user_id, kind=kind, defaults={"in_app": in_app, "email": Cadence.OFF})
    return True


def digest_unsubscribe(*, user_id: int, cadence: str) -> bool:
    """Every kind the user gets in the `cadence` digest goes to no e-mail. False when none did."""
    changed = False
    with transaction.atomic():
        for kind in Kind.values:
            in_app, current = preferences_of(user_ids=[user_id], kind=kind)[user_id]
            if current == cadence:
                Preference.objects.update_or_create(user_id=user_id, kind=kind,
                                                    defaults={"in_app": in_app, "email": Cadence.OFF})
                changed = True
    return changed
