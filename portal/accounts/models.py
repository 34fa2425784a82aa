from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property


class User(AbstractUser):
    """A portal account. Its wallets are allauth social accounts (provider "siwe", uid = checksummed address).

    `username` is the checksummed address of the first wallet that signed in; `display_name` is optional.
    """

    display_name = models.CharField(max_length=40, blank=True)

    @property
    def primary_address(self) -> str | None:
        return self.username if self.username.startswith("0x") and len(self.username) == 42 else None

    @cached_property  # read by the proposal view and its template in one request: one query
    def wallet_addresses(self) -> list[str]:
        return [sa.uid for sa in self.socialaccount_set.all() if sa.provider == "siwe"]

    def __str__(self) -> str:
        """How people see this account in sentences: the display name, or the short address (0x1234…abcd)."""
        if self.display_name:
            return self.display_name
        address = self.primary_address
        return f"{address[:6]}…{address[-4:]}" if address else self.username
