"""What every write of an incident's timeline shares: the sentences for missing or long text, model validation as
a refusal, the rule for an incident's status dates, and adding one update."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError

from portal.errors import Refusal

from ..models import CLOSED_STATUSES, Incident, IncidentUpdate

MAX_TITLE = 160
MAX_BODY = 5000


def clean_text(value: str, *, what: str, limit: int) -> str:
    """`value` stripped; a Refusal naming `what` when it is empty or longer than `limit`."""
    value = (value or "").strip()
    if not value:
        raise Refusal(f"Please write the {what}.")
    if len(value) > limit:
        raise Refusal(f"The {what} is too long: at most {limit} characters, you wrote {len(value)}.")
    return value


def full_clean(instance) -> None:
    """The model's own validation, its messages as one refusal. Relations are rows the caller just read and codes
    are random with a unique index behind them, so neither costs a query here."""
    relations = [f.name for f in instance._meta.concrete_fields if f.is_relation]
    try:
        instance.full_clean(exclude=relations, validate_unique=False)
    except ValidationError as exc:
        raise Refusal(" ".join(exc.messages)) from None


def status_apply(incident: Incident, status: str, now: datetime) -> None:
    """Move `incident` to `status`, keeping monitoring_at and resolved_at true to it (not saved)."""
    incident.status = status
    incident.updated_at = now
    if status == "monitoring" and incident.monitoring_at is None:
        incident.monitoring_at = now
    if status in CLOSED_STATUSES and incident.resolved_at is None:
        incident.resolved_at = now
    if status not in CLOSED_STATUSES:
        incident.resolved_at = None


def update_add(
    *, incident: Incident, status: str, body: str, now: datetime, author=None, affected: list[dict] | None = None
) -> IncidentUpdate:
    """Validate and save one timeline entry of `incident` (its status is the caller's business)."""
    update = IncidentUpdate(
        incident=incident, status=status, body=body, author=author if getattr(author, "pk", None) else None,
        created_at=now, display_at=now, affected_components=affected or [],
    )
    full_clean(update)
    update.save()
    return update
