"""Writes to an account: its display name and its wallets. Refusals are the kernel's, with a sentence."""

from allauth.socialaccount.models import SocialAccount
from django.db import transaction

from portal.errors import Conflict, NotFound

from .models import User


def user_rename(*, user: User, display_name: str) -> User:
    """Set (or clear) the display name; raises ValidationError when it does not fit."""
    user.display_name = display_name.strip()
    # Wallet accounts have no password (demo accounts store ''), so only the field being written is validated.
    user.full_clean(exclude=[f.name for f in User._meta.fields if f.name != "display_name"], validate_unique=False)
    user.save(update_fields=["display_name"])
    return user


@transaction.atomic
def wallet_unlink(*, user: User, address: str) -> None:
    """Remove one of the user's wallets; the last one stays, or the account could never be signed into again."""
    wallets = list(SocialAccount.objects.select_for_update().filter(user=user, provider="siwe"))
    target = next((w for w in wallets if w.uid.lower() == address.lower()), None)
    if target is None:
        raise NotFound("That wallet is not linked to your account.")
    if len(wallets) == 1:
        raise Conflict("This is your only wallet: link another one before removing it.")
    target.delete()
