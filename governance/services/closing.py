"""The end of a proposal's life: recording its close (by the clock), cancelling it, marking it executed.

A proposal closes by the clock alone (see selectors.effective_state); what is recorded here at the close — the
timeline entry, the frozen exact tally, the voters' notices — is written by `proposals_close_due()`, which the
health sampler calls on every tick, never by a page or API read.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from governance import selectors
from governance.exports import export_store_later
from governance.live import tally_broadcast
from governance.models import Proposal, ProposalEvent, ProposalState, ProposalTally
from governance.services.risk import risk_change_check
from governance.services.timeline import timeline_record
from governance.voting import Outcome
from governance.webhooks import proposal_event
from portal.accounts.roles import is_admin
from portal.errors import Conflict, Forbidden, Refusal
from portal.effects.models import Effect
from portal.notifications.services import notify_later

TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


@transaction.atomic
def proposal_cancel(*, proposal: Proposal, actor, reason: str) -> Proposal:
    """An admin cancels a proposal at any point before it is executed, with a reason; watchers see it live."""
    if not is_admin(actor):
        raise Forbidden("Only an admin can cancel a proposal.")
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("Say why the proposal is cancelled.")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.executed_at or proposal.cancelled_at:
        raise Conflict(f"{proposal.label} is already {selectors.effective_state(proposal=proposal)}.")
    proposal.cancelled_at = timezone.now()
    proposal.cancel_reason = reason[:500]
    proposal.save(update_fields=["cancelled_at", "cancel_reason"])
    timeline_record(proposal, ProposalEvent.Kind.CANCELLED, actor=actor, note=reason[:500])
    proposal_event(proposal=proposal, event="cancelled", reason=proposal.cancel_reason)
    if proposal.close_recorded_at is not None:
        export_store_later(proposal=proposal)
    tally_broadcast(number=proposal.number)
    return proposal


@transaction.atomic
def proposal_mark_executed(*, proposal: Proposal, actor, tx_hash: str) -> Proposal:
    """An admin records that a passed proposal was carried out on-chain (transaction hash); watchers see it live.

    A close the sampler has not recorded yet is recorded first, so the outcome checked is the frozen exact one and
    the timeline reads closed → executed; a risk change is then checked on-chain (services.risk). Refused (nothing
    written) unless closed and passed."""
    if not is_admin(actor):
        raise Forbidden("Only an admin can mark a proposal executed.")
    tx_hash = (tx_hash or "").strip()
    if not TX_HASH.match(tx_hash):
        raise Refusal("Give the transaction hash: 0x followed by 64 hex digits.")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    state = selectors.effective_state(proposal=proposal)
    if state != ProposalState.CLOSED:
        raise Conflict(f"{proposal.label} is {state}; only a closed proposal can be executed.")
    proposal_close_if_due(proposal=proposal)
    if selectors.proposal_results(proposal=proposal).outcome != Outcome.PASSED:
        raise Conflict(f"{proposal.label} did not pass, so it cannot be executed.")
    proposal.executed_at = timezone.now()
    proposal.execution_tx = tx_hash.lower()
    proposal.save(update_fields=["executed_at", "execution_tx"])
    timeline_record(proposal, ProposalEvent.Kind.EXECUTED, actor=actor, note=f"Transaction {tx_hash.lower()}.")
    proposal_event(proposal=proposal, event="executed", execution_tx=proposal.execution_tx)
    export_store_later(proposal=proposal)
    tally_broadcast(number=proposal.number)
    # A risk proposal's parameter is read on-chain once the execution is saved (the sampler retries if the node is down).
    transaction.on_commit(lambda: risk_change_check(proposal=proposal))
    return proposal


def proposal_close_if_due(*, proposal: Proposal) -> bool:
    """Record, once, the close of a proposal whose end has passed: freeze the tally to the exact recount, add the
    timeline entry and notify the voters (a cancelled proposal gets neither). Returns True if it recorded now.

    The state already follows the clock; this writes only what a close leaves behind. Called by
    `proposals_close_due()` and before an execution — never from a read."""
    if not selectors.close_pending(proposal=proposal):
        return False
    with transaction.atomic():
        won = Proposal.objects.filter(pk=proposal.pk, close_recorded_at__isnull=True).update(
            close_recorded_at=timezone.now()
        )
        if not won:  # another worker recorded it first
            return False
        _freeze_tally(proposal)
        proposal.close_recorded_at = timezone.now()
        if proposal.cancelled_at is None:
            results = selectors.proposal_results(proposal=proposal)
            timeline_record(proposal, ProposalEvent.Kind.CLOSED, at=proposal.end, note=results.outcome_sentence)
            _notify_voters(proposal, results.outcome_sentence)
            proposal_event(proposal=proposal, event="ended", outcome=results.outcome,
                           outcome_sentence=results.outcome_sentence, voters=results.voters)
        export_store_later(proposal=proposal)
    return True


def _freeze_tally(proposal: Proposal) -> None:
    """Replace the running sums with the exact recount, so the published result is what a recount gives (the
    running sums of weighted and quadratic votes can differ from it in the last digits).

    Called after the close is marked (close_recorded_at, in the caller's transaction). The recount runs before the
    tally's row lock, so the lock is held for one write: a vote that takes the lock after it sees the close and is
    refused (services.votes), and a vote that committed between the recount and the lock changed the running row,
    so then the recount runs again under the lock. Every vote that was answered 201 is in the frozen tally."""
    seen = ProposalTally.objects.filter(proposal=proposal).values_list("updated", "voters", "state").first()
    state, voters = selectors.exact_state(proposal=proposal)
    running, created = ProposalTally.objects.select_for_update().get_or_create(
        proposal=proposal, defaults={"state": state.to_json(), "voters": voters},
    )
    if not created and (running.updated, running.voters, running.state) != seen:
        state, voters = selectors.exact_state(proposal=proposal)  # a vote committed meanwhile
    running.state, running.voters, running.updated = state.to_json(), voters, timezone.now()
    running.save(update_fields=["state", "voters", "updated"])
    proposal._state.fields_cache.pop("tally", None)  # the results read next come from the frozen row


def proposals_close_due() -> int:
    """Record every proposal that closed since the last call (the health sampler calls it each tick). Returns how
    many were recorded."""
    due = Proposal.objects.filter(activated_at__isnull=False, close_recorded_at__isnull=True, end__lte=timezone.now())
    return sum(proposal_close_if_due(proposal=p) for p in due)


def proposals_remind_closing(*, now=None) -> int:
    """Tell the members who have not voted that voting on a proposal closes within 24 hours, once per proposal (the
    sampler calls it each tick; a proposal reminded already costs nothing more). Returns how many were reminded."""
    now = now or timezone.now()
    due = list(Proposal.objects.filter(activated_at__isnull=False, close_recorded_at__isnull=True, cancelled_at__isnull=True,
                                       start__lte=now, end__gt=now, end__lte=now + timedelta(hours=24)))
    if not due:
        return 0
    told = set(Effect.objects.filter(key__in=[f"notify:proposal-closing:{p.pk}" for p in due])
               .values_list("key", flat=True))
    reminded = 0
    for proposal in due:
        if f"notify:proposal-closing:{proposal.pk}" in told:
            continue
        voted = proposal.votes.values_list("voter", flat=True)
        members = (get_user_model().objects.filter(is_active=True, socialaccount__provider="siwe")
                   .exclude(socialaccount__uid__in=voted).distinct())
        hours = max(1, round((proposal.end - now).total_seconds() / 3600))
        with transaction.atomic():
            reminded += notify_later(
                recipients=list(members), verb="proposal_closing", key=f"proposal-closing:{proposal.pk}",
                text=f"{proposal.label} “{proposal.title}”: voting closes in about {hours} hour{'s' if hours != 1 else ''}",
                url=proposal.get_absolute_url())
    return reminded


def _notify_voters(proposal: Proposal, sentence: str) -> None:
    voters = list(proposal.votes.values_list("voter", flat=True))
    if not voters:
        return
    users = get_user_model().objects.filter(socialaccount__provider="siwe", socialaccount__uid__in=voters).distinct()
    notify_later(
        recipients=list(users), verb="proposal_closed", text=f"{proposal.label} closed: {sentence}",
        url=proposal.get_absolute_url(), key=f"proposal-closed:{proposal.pk}",
    )
