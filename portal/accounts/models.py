from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
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


class Sanction(models.Model):
    """A silence (cannot post) or suspension (cannot sign in) until `ends`, imposed by a moderator.

    Moved here from the discussion app: accounts decides who may act. The table keeps its old name, so no row moved.
    """

    class Kind(models.TextChoices):
        SILENCE = "silence", "Silenced"
        SUSPEND = "suspend", "Suspended"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sanctions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=300)
    starts = models.DateTimeField(default=timezone.now)
    ends = models.DateTimeField()
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "discussion_sanction"
        ordering = ["-ends"]
        indexes = [models.Index(fields=["user", "kind", "ends"], name="discussion__user_id_51165e_idx")]
