"""What the portal keeps about people beyond their account: a delegate's statement. Delegation itself lives on the
chain (governance.delegation) and is never copied here."""

from django.conf import settings
from django.db import models
from django.utils import timezone

STATEMENT_MAX_LENGTH = 5_000


class DelegateStatement(models.Model):
    """Why to delegate to this address: markdown its owner writes, shown in the directory and on the profile."""

    address = models.CharField(max_length=42, unique=True, help_text="Checksummed address of one of the author's wallets.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegate_statements")
    body = models.TextField(max_length=STATEMENT_MAX_LENGTH)
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Statement of {self.address}"
