"""The proposal's timeline: one lifecycle transition per row (who, when, why)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from governance.models import Proposal, ProposalEvent


def _actor_label(user) -> str:
    if user is None:
        return "the portal"
    return getattr(user, "primary_address", None) or str(user)


def timeline_record(proposal: Proposal, kind: str, *, actor=None, note: str = "", at: datetime | None = None) -> None:
    """One lifecycle transition on the proposal's timeline (a close is the clock's, not a person's)."""
    ProposalEvent.objects.create(
        proposal=proposal,
        kind=kind,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor) if kind != ProposalEvent.Kind.CLOSED else "the clock",
        note=note,
        at=at or timezone.now(),
    )
