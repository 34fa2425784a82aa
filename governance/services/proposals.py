"""Drafts: create, edit and open a proposal for voting, and which of those a person may do now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from http import HTTPStatus

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from governance import selectors
from governance.chain import chain
from governance.models import (
    Category, Proposal, ProposalEvent, ProposalState, ProposalTally, QuorumKind, RiskParameterChange,
)
from governance.services.risk import NOT_RISK, risk_change_clean, risk_change_store
from governance.services.timeline import timeline_record
from governance.services.weights import snapshot_weights_preread_later
from governance.blocks import snapshot_fix
from governance.strategies import default_strategies, total_supply_at, voting_weight
from governance.voting import BASIC_CHOICES, WEI, Outcome, VotingType, voting_method
from governance.webhooks import proposal_opened
from portal.accounts.roles import is_admin
from portal.conf import portal_settings
from portal.discussion.services import thread_create
from portal.errors import Conflict, Forbidden, Refusal, SignInRequired
from portal.notifications.services import notify_later
from portal.ratelimit import Limit


KEEP = object()  # proposal_update: leave the risk change as it is


def is_author(user, proposal: Proposal) -> bool:
    return bool(user and user.is_authenticated and user.pk == proposal.author_id)


@dataclass(frozen=True)
class ProposalActions:
    edit: bool
    activate: bool
    cancel: bool
    execute: bool

    @property
    def any(self) -> bool:
        return self.edit or self.activate or self.cancel or self.execute


def proposal_actions(*, proposal: Proposal, user, outcome: str | None) -> ProposalActions:
    """What `user` may do with `proposal` now (which buttons to show): the rules the writes enforce."""
    state = selectors.effective_state(proposal=proposal)
    draft = state == ProposalState.DRAFT
    admin = is_admin(user)
    return ProposalActions(
        edit=draft and is_author(user, proposal),
        activate=draft and (admin or is_author(user, proposal)),
        cancel=admin and state not in (ProposalState.EXECUTED, ProposalState.CANCELLED),
        execute=admin and state == ProposalState.CLOSED and outcome == Outcome.PASSED,
    )


def _clean_fields(
    *, title: str, body: str, category: str, voting_type: str, choices: list[str], start: datetime, end: datetime,
    quorum_kind: str, quorum_value: str,
) -> dict:
    title = (title or "").strip()
    body = (body or "").strip()
    max_body = portal_settings().proposal_max_body
    max_choices = portal_settings().proposal_max_choices
    if not title:
        raise Refusal("The proposal needs a title.")
    if len(title) > 200:
        raise Refusal("The title is too long: at most 200 characters are allowed.")
    if not body:
        raise Refusal("The proposal needs a body: explain what should change and why.")
    if len(body) > max_body:
        raise Refusal(f"The body is too long: {len(body):,} characters, at most {max_body:,} are allowed.")
    if category not in Category.values:
        raise Refusal(f"Unknown category {category!r}: choose one of {', '.join(Category.values)}.")
    voting_method(voting_type)  # refuses a voting type the portal does not know, naming the ones it does
    if voting_type == VotingType.BASIC:
        choices = list(BASIC_CHOICES)
    else:
        choices = [str(c).strip() for c in (choices or []) if str(c).strip()]
        if len(choices) < 2:
            raise Refusal("Give at least two choices.")
        if len(choices) > max_choices:
            raise Refusal(f"Too many choices: at most {max_choices} are allowed.")
        if any(len(c) > 100 for c in choices):
            raise Refusal("Each choice may be at most 100 characters long.")
        if len({c.lower() for c in choices}) != len(choices):
            raise Refusal("Each choice must be different from the others.")
    if start is None or end is None:
        raise Refusal("Give the start and the end of the voting period.")
    if end <= start:
        raise Refusal("The voting period must end after it starts.")
    max_days = portal_settings().proposal_max_voting_days
    if end - start > timedelta(days=max_days):
        raise Refusal(f"The voting period may last at most {max_days} days.")
    if quorum_kind not in QuorumKind.values:
        raise Refusal("The quorum is either a token amount or a percent of the total supply.")
    try:
        quorum_number = Decimal(str(quorum_value or "0").strip())
    except InvalidOperation:
        raise Refusal("The quorum must be a number.") from None
    if not quorum_number.is_finite() or quorum_number < 0:
        raise Refusal("The quorum must be a number of at least zero.")
    if quorum_kind == QuorumKind.PERCENT and quorum_number > 100:
        raise Refusal("A quorum in percent must be between 0 and 100.")
    return {
        "title": title, "body": body, "category": category, "voting_type": voting_type, "choices": choices,
        "start": start, "end": end, "quorum_kind": quorum_kind, "quorum_value": format(quorum_number, "f"),
        "quorum": format(quorum_number, "f") if quorum_kind == QuorumKind.AMOUNT else "0",
    }


def _check_threshold(author) -> None:
    """Proposal threshold: a minimum weight right now through the default strategies; admins are exempt."""
    threshold = portal_settings().proposal_threshold
    if threshold <= 0 or is_admin(author):
        return
    block = chain().block_number()
    weight = voting_weight(strategies=default_strategies(), snapshot_block=block, address=author.primary_address)
    if weight < threshold:
        raise Forbidden(
            f"You need at least {threshold:,f} voting weight to create a proposal; your wallet has {weight:,f}. "
            "Delegate your loyalty tokens to yourself, or ask a delegate to propose it."
        )


def _check_open_count(author) -> None:
    max_open = portal_settings().proposal_max_open_per_author
    open_count = (
        Proposal.objects.filter(author=author, cancelled_at__isnull=True, executed_at__isnull=True)
        .exclude(activated_at__isnull=False, end__lte=timezone.now())
        .count()
    )
    if open_count >= max_open:
        raise Refusal(
            f"You already have {open_count} open proposals; at most {max_open} may be open at once. "
            "Wait until one closes, or cancel a draft.",
            HTTPStatus.TOO_MANY_REQUESTS,
        )


def _require_author(author) -> None:
    if author is None or not author.is_authenticated:
        raise SignInRequired("Please sign in with your wallet to write a proposal.")
    if not author.primary_address:
        raise Forbidden("Your account has no wallet address to propose with.")


def proposal_create(
    *, author, title: str, body: str, category: str = Category.PROTOCOL, voting_type: str = VotingType.BASIC,
    choices: list[str] | None = None, start: datetime, end: datetime, quorum_kind: str = QuorumKind.AMOUNT,
    quorum_value: str = "0", with_thread: bool = True, risk_change: dict | None = None,
) -> Proposal:
    """Create a draft proposal (numbered LIP-N) and its discussion thread; a risk proposal may carry `risk_change`
    ({"asset", "parameter", "value"}, see services.risk.risk_change_clean).

    Raises a Refusal, writing nothing, when the author is not signed in, is below the proposal threshold (admins
    exempt), has too many open proposals, posts too fast, a field is out of bounds or the change is not one the
    market allows. Raises ChainUnavailable when the threshold or the market cannot be read.
    """
    _require_author(author)
    fields = _clean_fields(
        title=title, body=body, category=category, voting_type=voting_type, choices=choices or [], start=start,
        end=end, quorum_kind=quorum_kind, quorum_value=quorum_value,
    )
    change = risk_change_clean(category=fields["category"], change=risk_change)
    if not is_admin(author):
        _check_open_count(author)
        Limit("proposal-create", portal_settings().proposals_per_hour, 3600).hit(
            str(author.pk), message="You can create {count} proposal{s} an {per}. Please wait {wait} and try again."
        )
        _check_threshold(author)
    for attempt in range(5):
        try:
            with transaction.atomic():
                number = (Proposal.objects.aggregate(top=Max("number"))["top"] or 0) + 1
                proposal = Proposal(number=number, author=author, author_address=author.primary_address, **fields)
                proposal.full_clean(exclude=["thread", "author"])
                proposal.save()
                if with_thread:
                    proposal.thread = _thread_for(proposal)
                    proposal.save(update_fields=["thread"])
                risk_change_store(proposal=proposal, change=change)
                timeline_record(proposal, ProposalEvent.Kind.CREATED, actor=author, note="Draft created.")
                return proposal
        except IntegrityError:  # two drafts took the same number at once: take the next one
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _thread_for(proposal: Proposal):
    return thread_create(
        title=f"{proposal.label}: {proposal.title}"[:200],
        category_slug=portal_settings().proposal_thread_category,
        body=f"Discussion of [{proposal.label}]({proposal.get_absolute_url()}).",
        owner=proposal.author,
    )


@transaction.atomic
def proposal_update(*, proposal: Proposal, editor, risk_change=KEEP, **changes) -> Proposal:
    """Edit a draft: only its author, only while it is a draft. `changes` are the create fields; `risk_change`
    replaces the change (None or empty removes it; left out, the change stays)."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not is_author(editor, proposal):
        raise Forbidden("Only the author can edit this proposal.")
    if selectors.effective_state(proposal=proposal) != ProposalState.DRAFT:
        raise Conflict(f"{proposal.label} is no longer a draft, so it cannot be edited.")
    current = {
        "title": proposal.title, "body": proposal.body, "category": proposal.category,
        "voting_type": proposal.voting_type, "choices": proposal.choices, "start": proposal.start,
        "end": proposal.end, "quorum_kind": proposal.quorum_kind, "quorum_value": proposal.quorum_value,
    }
    unknown = set(changes) - set(current)
    if unknown:
        raise Refusal(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    fields = _clean_fields(**{**current, **changes})
    if risk_change is KEEP:
        keep = RiskParameterChange.objects.filter(proposal=proposal).exists()
        if keep and fields["category"] != Category.RISK:
            raise Refusal(NOT_RISK)
    else:
        change = risk_change_clean(category=fields["category"], change=risk_change)
    for name, value in fields.items():
        setattr(proposal, name, value)
    proposal.updated = timezone.now()
    proposal.full_clean(exclude=["thread", "author"])
    proposal.save()
    if risk_change is not KEEP:
        risk_change_store(proposal=proposal, change=change)
    timeline_record(proposal, ProposalEvent.Kind.UPDATED, actor=editor)
    return proposal


def proposal_activate(*, proposal: Proposal, actor) -> Proposal:
    """Open a draft for voting: fix the snapshot block, copy the strategies, fix a percent quorum in tokens.

    The author or an admin may do it. Voting opens at the proposal's start (now, if that has passed) and the end
    must still be ahead. Raises ChainUnavailable when the snapshot cannot be fixed.
    """
    if not (is_author(actor, proposal) or is_admin(actor)):
        raise Forbidden("Only the author or an admin can open this proposal for voting.")
    if selectors.effective_state(proposal=proposal) != ProposalState.DRAFT:
        raise Conflict(f"{proposal.label} is not a draft, so it cannot be opened again.")
    now = timezone.now().replace(microsecond=0)  # signed timestamps are whole seconds
    if proposal.end <= now + timedelta(minutes=1):
        raise Refusal("The voting period has already ended: move the end into the future first.")
    strategies = default_strategies()
    if not strategies:
        raise Conflict("No voting strategies are configured (the loyalty token is not deployed?), so nobody could vote.")
    snapshot_block, snapshot_time = snapshot_fix()
    quorum = proposal.quorum
    if proposal.quorum_kind == QuorumKind.PERCENT:
        supply = total_supply_at(strategies=strategies, snapshot_block=snapshot_block, snapshot_time=snapshot_time)
        quorum = format((supply * Decimal(proposal.quorum_value) / 100).quantize(WEI), "f")
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.activated_at is not None:
            raise Conflict(f"{proposal.label} is already open.")
        locked.snapshot_block = snapshot_block
        locked.snapshot_time = snapshot_time
        locked.strategies = [s.to_json() for s in strategies]
        locked.quorum = quorum
        locked.start = max(locked.start, now).replace(microsecond=0)  # signed timestamps are whole seconds
        locked.activated_at = now
        locked.updated = now
        locked.full_clean(exclude=["thread", "author"])
        locked.save()
        snapshot_weights_preread_later(proposal=locked)
        proposal_opened(proposal=locked)  # webhooks: proposal.created, proposal.started (now or at the start)
        ProposalTally.objects.get_or_create(
            proposal=locked,
            defaults={"state": voting_method(locked.voting_type).empty(len(locked.choice_names)).to_json()},
        )
        timeline_record(
            locked, ProposalEvent.Kind.ACTIVATED, actor=actor,
            note=f"Voting power measured at block {snapshot_block}; voting from {locked.start:%Y-%m-%d %H:%M} to {locked.end:%Y-%m-%d %H:%M} UTC.",
        )
        # Every member hears of it on the channels they chose, once, if and only if this commits.
        members = get_user_model().objects.filter(is_active=True, socialaccount__provider="siwe").distinct()
        notify_later(recipients=list(members), verb="proposal_opened", key=f"proposal-opened:{locked.pk}",
                     text=f"{locked.label} is open for voting until {locked.end:%d %b %Y %H:%M} UTC: “{locked.title}”",
                     url=locked.get_absolute_url(), actor=locked.author)
    return locked
