"""Demo accounts: anvil's dev accounts #0–#4 exist as users; #0 is a portal admin."""

from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group

from portal.accounts.models import User
from portal.conf import DEV_ACCOUNTS

STAFF_GROUPS = ("moderators", "admins")


def seed(*, stdout) -> None:
    for name in STAFF_GROUPS:
        Group.objects.get_or_create(name=name)
    for index, address in enumerate(DEV_ACCOUNTS[:5]):
        user, created = User.objects.get_or_create(username=address)
        SocialAccount.objects.get_or_create(provider="siwe", uid=address, defaults={"user": user})
        if index == 0 and not user.is_superuser:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
            user.groups.add(*Group.objects.filter(name__in=STAFF_GROUPS))
        if created:
            stdout.write(f"  created account {address}{' (admin)' if index == 0 else ''}")
