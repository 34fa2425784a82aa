"""Writes about people: a delegate's statement. Delegating itself is a transaction the holder's wallet sends to the
token; the portal never holds a key."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from portal.errors import Forbidden, SignInRequired
from portal.parsing import parse_text

from .models import STATEMENT_MAX_LENGTH, DelegateStatement
from .selectors import address_parse


@transaction.atomic
def statement_save(*, user, address: str, body: str) -> DelegateStatement | None:
    """Set the delegate statement of `address`, one of `user`'s wallets; an empty body removes it (returns None).
    Raises Refusal (sign-in, not your wallet, too long) and writes nothing then."""
    if user is None or not user.is_authenticated:
        raise SignInRequired("Please sign in with your wallet to write a delegate statement.")
    address = address_parse(address)
    if address not in user.wallet_addresses:
        raise Forbidden("You can only write the statement of a wallet linked to your account.")
    text = parse_text(body, what="The statement", max_length=STATEMENT_MAX_LENGTH, required=False)
    if not text:
        DelegateStatement.objects.filter(address=address).delete()
        return None
    statement, _ = DelegateStatement.objects.update_or_create(
        address=address, defaults={"author": user, "body": text, "updated": timezone.now()}
    )
    return statement
