"""The ledger of durable effects: one row per effect, keyed for idempotency, with its attempts and last error."""

from django.db import models
from django.utils import timezone


class Effect(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"  # queued, running or waiting for a retry
        DONE = "done", "Done"
        FAILED = "failed", "Failed for good"

    key = models.CharField(max_length=200, unique=True)
    handler = models.CharField(max_length=200)  # dotted path of a @durable function
    kwargs = models.JSONField(default=dict)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True, db_index=True)  # the django-tasks result now in charge
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
