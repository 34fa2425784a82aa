"""Governance events for webhooks, as Snapshot sends them (proposal created, started, ended, cancelled, executed; a
vote cast): each is queued inside the write's transaction and delivered by portal.health.webhooks (signed, retried).
The body names the proposal and where to read the rest (`api`), as Snapshot's names the proposal id."""

from __future__ import annotations

from django.utils import timezone

from portal.effects.services import durable, effect_enqueue
from portal.health.webhooks import webhooks_send

from .models import Proposal, Vote


def proposal_summary(proposal: Proposal) -> dict:
    return {
        "number": proposal.number, "label": proposal.label, "title": proposal.title, "author": proposal.author_address,
        "voting_type": proposal.voting_type, "choices": proposal.choice_names, "start": proposal.start.isoformat(),
        "end": proposal.end.isoformat(), "snapshot_block": proposal.snapshot_block, "state": proposal.state,
        "url": proposal.get_absolute_url(), "api": f"/api/v1/proposals/{proposal.number}",
    }


def proposal_opened(*, proposal: Proposal) -> None:
    """In the activation's transaction: `proposal.created` now (it is public from here on) and `proposal.started`
    when voting opens — now, or as a task due at the start."""
    webhooks_send(event="proposal.created", payload=lambda: {"proposal": proposal_summary(proposal)})
    if proposal.start <= timezone.now():
        webhooks_send(event="proposal.started", payload=lambda: {"proposal": proposal_summary(proposal)})
    else:
        effect_enqueue(proposal_started_announce, key=f"proposal-started:{proposal.pk}", run_after=proposal.start,
                       proposal_id=proposal.pk)


@durable()
def proposal_started_announce(*, proposal_id: int) -> None:
    """Due at the proposal's start: `proposal.started`, unless it was cancelled (or moved) meanwhile."""
    proposal = Proposal.objects.filter(pk=proposal_id).first()
    if proposal is None or proposal.cancelled_at or proposal.start > timezone.now():
        return
    webhooks_send(event="proposal.started", payload=lambda: {"proposal": proposal_summary(proposal)})


def proposal_event(*, proposal: Proposal, event: str, **details) -> None:
    """In the write's transaction: `proposal.<event>` (ended, cancelled, executed) with `details` beside it."""
    webhooks_send(event=f"proposal.{event}", payload=lambda: {"proposal": proposal_summary(proposal), **details})


def vote_cast_event(*, proposal: Proposal, vote: Vote) -> None:
    """In the vote's transaction: `vote.cast` (also for a vote that replaces the voter's earlier one)."""
    webhooks_send(event="vote.cast", payload=lambda: {
        "proposal": {"number": proposal.number, "label": proposal.label, "title": proposal.title},
        "vote": {"voter": vote.voter, "choice": vote.choice, "reason": vote.reason, "timestamp": vote.timestamp,
                 "weight": vote.weight, "receipt": vote.receipt},
    })
