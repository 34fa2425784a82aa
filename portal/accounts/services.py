from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from portal.errors import Refusal

from .models import User


class WalletError(Refusal):
    pass


def user_rename(*, user: User, display_name: str) -> User:
    user.display_name = display_name.strip()
    user.full_clean(validate_unique=False)
    user.save(update_fields=["display_name"])
    return user


@transaction.atomic
def wallet_unlink(*, user: User, address: str) -> None:
    """Remove one of the user's wallets; the last one stays, or the account could never be signed into again."""
    wallets = list(SocialAccount.objects.select_for_update().filter(user=user, provider="siwe"))
    target = next((w for w in wallets if w.uid.lower() == address.lower()), None)
    if target is None:
        raise WalletError("That wallet is not linked to your account.")
    if len(wallets) == 1:
        raise WalletError("This is your only wallet: link another one before removing it.")
    target.delete()
