"""An account's e-mail addresses, through allauth's own machinery (EmailAddress, HMAC confirmation links, its
flows for adding, making primary and removing). The portal adds the sentences and statuses: a malformed address or
one already verified by another account is refused with nothing written, and each bad confirmation link says what
is wrong with it."""

from __future__ import annotations

from http import HTTPStatus

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from allauth.account.forms import AddEmailForm
from allauth.account.internal import flows
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction

from portal.errors import Conflict, NotFound, Refusal
from portal.notifications.mail import suppression_lift
from portal.parsing import EMAIL_SENTENCE, parse_email
from portal.notifications.models import Suppression

TAKEN = "This address is already verified by another account. Use another address, or remove it from that account first."


class PortalAddEmailForm(AddEmailForm):
    """allauth's form, but only a *verified* address of another account is taken: an unverified one proves
    nothing, and refusing it would let anyone block someone else's address by typing it first."""

    def clean_email(self) -> str:
        value = get_adapter().clean_email(self.cleaned_data["email"].lower())
        if EmailAddress.objects.filter(user=self.user, email__iexact=value).exists():
            raise ValidationError("This address is already on your account.", code="duplicate_email")
        if EmailAddress.objects.filter(email__iexact=value, verified=True).exclude(user=self.user).exists():
            raise ValidationError(TAKEN, code="email_taken")
        if not EmailAddress.objects.can_add_email(self.user):
            raise ValidationError(
                f"An account can hold at most {allauth_settings.MAX_EMAIL_ADDRESSES} addresses; remove one first.",
                code="max_email_addresses")
        return value


def email_add(*, request, email) -> EmailAddress:
    """Add an address and mail it a verification link. Refusals: malformed (400), already on this account or
    verified by another (409), too many (409)."""
    address = parse_email(email)
    form = PortalAddEmailForm(data={"email": address}, user=request.user)
    if not form.is_valid():
        error = form.errors.as_data().get("email", [ValidationError(EMAIL_SENTENCE)])[0]
        raise Refusal(error.messages[0], HTTPStatus.CONFLICT if error.code != "invalid" else HTTPStatus.BAD_REQUEST)
    with transaction.atomic():
        flows.manage_email.add_email(request, form)
    return EmailAddress.objects.get(user=request.user, email=address)


def _own(request, email) -> EmailAddress:
    found = EmailAddress.objects.filter(user=request.user, email__iexact=str(email or "")[:254]).first()
    if found is None:
        raise NotFound("That address is not on your account.")
    return found


def email_resend(*, request, email) -> None:
    address = _own(request, email)
    if address.verified:
        raise Conflict("This address is verified already.")
    flows.email_verification.send_verification_email_to_address(request, address)


def email_make_primary(*, request, email) -> None:
    address = _own(request, email)
    if not flows.manage_email.can_mark_as_primary(address):
        raise Conflict("Verify this address first: only a verified address can receive your mail.")
    flows.manage_email.mark_as_primary(request, address)


def email_remove(*, request, email) -> None:
    address = _own(request, email)
    if not flows.manage_email.can_delete_email(address):
        raise Conflict("Make another address primary before removing this one.")
    flows.manage_email.delete_email(request, address)


def email_confirmation(key: str) -> EmailConfirmationHMAC:
    """The confirmation a link stands for. Refusals: forged (400), expired (410), used already (410), address
    removed since (404), address verified by another account meanwhile (409)."""
    if not isinstance(key, str) or len(key) > 300:
        raise Refusal("This verification link is not valid. Use the link in the e-mail as it came.")
    try:
        pk = signing.loads(key, salt=allauth_settings.SALT,
                           max_age=60 * 60 * 24 * allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS)
    except signing.SignatureExpired:
        raise Refusal("This verification link has expired. Send a new one from your account page.",
                      HTTPStatus.GONE) from None
    except signing.BadSignature:
        raise Refusal("This verification link is not valid. Use the link in the e-mail as it came.") from None
    address = EmailAddress.objects.select_related("user").filter(pk=pk).first()
    if address is None:
        raise NotFound("This address was removed from its account, so there is nothing to verify.")
    if address.verified:
        raise Refusal("This link was already used: the address is verified.", HTTPStatus.GONE)
    if not address.can_set_verified():
        raise Conflict(TAKEN)
    return EmailConfirmationHMAC(address)


@transaction.atomic
def email_verify(*, request, key: str) -> EmailAddress:
    """Open a verification link (POST): the address is verified, becomes primary if the account has none, and
    mail to it is no longer suppressed."""
    confirmation = email_confirmation(key)
    address = confirmation.confirm(request)
    if address is None:
        raise Conflict(TAKEN)
    suppression_lift(email=address.email)
    return address


def bounced_addresses(*, user) -> list[Suppression]:
    """The account's addresses that failed for good, for the notice on the account page."""
    emails = EmailAddress.objects.filter(user=user).values("email")
    return list(Suppression.objects.filter(email__in=emails))
