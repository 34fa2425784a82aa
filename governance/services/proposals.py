"""The one place proposals and votes are written. Every check lives here, so the pages, the API and the demo refuse
the same things with the same sentence. Live events leave only after the transaction commits."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from http import HTTPStatus

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from governance import tally as tallies
from governance.eip712 import BadSignature, SignedBallot, eip712_domain, typed_data
from governance.models import Category, Proposal, ProposalEvent, ProposalState, ProposalTally, QuorumKind, Vote
from governance.selectors import snapshot_weight
from portal.conf import portal_settings
from portal.errors import Refusal
from portal.ratelimit import Limit

log = logging.getLogger(__name__)

TIMESTAMP_TOLERANCE_SECONDS = 600
TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


class GovernanceError(Refusal):
    """Transitional name for portal.errors.Refusal in this app."""


def _is_admin(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def _is_author(user, proposal: Proposal) -> bool:
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
    """What `user` may do with `proposal` now (which buttons to show): the rules the writes below enforce."""
    state = proposal.state
    draft = state == ProposalState.DRAFT
    admin = _is_admin(user)
    return ProposalActions(
        edit=draft and _is_author(user, proposal),
        activate=draft and (admin or _is_author(user, proposal)),
        cancel=admin and state not in (ProposalState.EXECUTED, ProposalState.CANCELLED),
        execute=admin and state == ProposalState.CLOSED and outcome == "passed",
    )


def _actor_label(user) -> str:
    if user is None:
        return "the portal"
    return getattr(user, "primary_address", None) or str(user)


def _log(proposal: Proposal, kind: str, *, actor=None, note: str = "", at: datetime | None = None) -> None:
    ProposalEvent.objects.create(
        proposal=proposal,
        kind=kind,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor) if kind != ProposalEvent.Kind.CLOSED else "the clock",
        note=note,
        at=at or timezone.now(),
    )


# ---- proposals -------------------------------------------------------------------------------------------------


def _clean_fields(
    *, title: str, body: str, category: str, voting_type: str, choices: list[str], start: datetime, end: datetime,
    quorum_kind: str, quorum_value: str,
) -> dict:
    title = (title or "").strip()
    body = (body or "").strip()
    max_body = portal_settings().proposal_max_body
    max_choices = portal_settings().proposal_max_choices
    if not title:
        raise GovernanceError("The proposal needs a title.")
    if len(title) > 200:
        raise GovernanceError("The title is too long: at most 200 characters are allowed.")
    if not body:
        raise GovernanceError("The proposal needs a body: explain what should change and why.")
    if len(body) > max_body:
        raise GovernanceError(f"The body is too long: {len(body):,} characters, at most {max_body:,} are allowed.")
    if category not in Category.values:
        raise GovernanceError(f"Unknown category {category!r}: choose one of {', '.join(Category.values)}.")
    if voting_type not in tallies.VOTING_TYPES:
        raise GovernanceError(f"Unknown voting type {voting_type!r}: choose one of {', '.join(tallies.VOTING_TYPES)}.")
    if voting_type == "basic":
        choices = list(tallies.BASIC_CHOICES)
    else:
        choices = [str(c).strip() for c in (choices or []) if str(c).strip()]
        if len(choices) < 2:
            raise GovernanceError("Give at least two choices.")
        if len(choices) > max_choices:
            raise GovernanceError(f"Too many choices: at most {max_choices} are allowed.")
        if any(len(c) > 100 for c in choices):
            raise GovernanceError("Each choice may be at most 100 characters long.")
        if len({c.lower() for c in choices}) != len(choices):
            raise GovernanceError("Each choice must be different from the others.")
    if start is None or end is None:
        raise GovernanceError("Give the start and the end of the voting period.")
    if end <= start:
        raise GovernanceError("The voting period must end after it starts.")
    max_days = portal_settings().proposal_max_voting_days
    if end - start > timedelta(days=max_days):
        raise GovernanceError(f"The voting period may last at most {max_days} days.")
    if quorum_kind not in QuorumKind.values:
        raise GovernanceError("The quorum is either a token amount or a percent of the total supply.")
    try:
        quorum_number = Decimal(str(quorum_value or "0").strip())
    except InvalidOperation:
        raise GovernanceError("The quorum must be a number.") from None
    if not quorum_number.is_finite() or quorum_number < 0:
        raise GovernanceError("The quorum must be a number of at least zero.")
    if quorum_kind == QuorumKind.PERCENT and quorum_number > 100:
        raise GovernanceError("A quorum in percent must be between 0 and 100.")
    return {
        "title": title, "body": body, "category": category, "voting_type": voting_type, "choices": choices,
        "start": start, "end": end, "quorum_kind": quorum_kind, "quorum_value": format(quorum_number, "f"),
        "quorum": format(quorum_number, "f") if quorum_kind == QuorumKind.AMOUNT else "0",
    }


def _check_threshold(author) -> None:
    """Proposal threshold: a minimum weight right now through the default strategies; admins are exempt."""
    threshold = portal_settings().proposal_threshold
    if threshold <= 0 or _is_admin(author):
        return
    from governance.chain import chain
    from governance.strategies import default_strategies, voting_weight

    block = chain().block_number()
    weight = voting_weight(strategies=default_strategies(), snapshot_block=block, address=author.primary_address)
    if weight < threshold:
        raise GovernanceError(
            f"You need at least {threshold:,f} voting weight to create a proposal; your wallet has {weight:,f}. "
            "Delegate your loyalty tokens to yourself, or ask a delegate to propose it.",
            HTTPStatus.FORBIDDEN,
        )


def _require_author(author) -> None:
    if author is None or not author.is_authenticated:
        raise GovernanceError("Please sign in with your wallet to write a proposal.", HTTPStatus.UNAUTHORIZED)
    if not author.primary_address:
        raise GovernanceError("Your account has no wallet address to propose with.", HTTPStatus.FORBIDDEN)


def proposal_create(
    *, author, title: str, body: str, category: str = Category.PROTOCOL, voting_type: str = "basic",
    choices: list[str] | None = None, start: datetime, end: datetime, quorum_kind: str = QuorumKind.AMOUNT,
    quorum_value: str = "0", with_thread: bool = True,
) -> Proposal:
    """Create a draft proposal (numbered LIP-N) and its discussion thread.

    Refuses with GovernanceError when the author is not signed in, is below the proposal threshold (admins exempt),
    has too many open proposals, posts too fast, or a field is out of bounds. Raises ChainUnavailable when the
    threshold cannot be read.
    """
    _require_author(author)
    fields = _clean_fields(
        title=title, body=body, category=category, voting_type=voting_type, choices=choices or [], start=start,
        end=end, quorum_kind=quorum_kind, quorum_value=quorum_value,
    )
    if not _is_admin(author):
        max_open = portal_settings().proposal_max_open_per_author
        now = timezone.now()
        open_count = (
            Proposal.objects.filter(author=author, cancelled_at__isnull=True, executed_at__isnull=True)
            .exclude(activated_at__isnull=False, end__lte=now)
            .count()
        )
        if open_count >= max_open:
            raise GovernanceError(
                f"You already have {open_count} open proposals; at most {max_open} may be open at once. "
                "Wait until one closes, or cancel a draft.",
                HTTPStatus.TOO_MANY_REQUESTS,
            )
        Limit("proposal-create", portal_settings().proposals_per_hour, 3600).hit(
            str(author.pk), message="You are creating proposals too fast. Please wait an hour and try again."
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
                _log(proposal, ProposalEvent.Kind.CREATED, actor=author, note="Draft created.")
                return proposal
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _thread_for(proposal: Proposal):
    try:
        from portal.discussion.services import thread_create
    except ImportError:  # the discussion app is optional for governance
        return None
    return thread_create(
        title=f"{proposal.label}: {proposal.title}"[:200],
        category_slug=portal_settings().proposal_thread_category,
        body=f"Discussion of [{proposal.label}]({proposal.get_absolute_url()}).",
        owner=proposal.author,
    )


@transaction.atomic
def proposal_update(*, proposal: Proposal, editor, **changes) -> Proposal:
    """Edit a draft: only its author, only while it is a draft. `changes` are the create fields."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not _is_author(editor, proposal):
        raise GovernanceError("Only the author can edit this proposal.", HTTPStatus.FORBIDDEN)
    if proposal.state != ProposalState.DRAFT:
        raise GovernanceError(f"{proposal.label} is no longer a draft, so it cannot be edited.", HTTPStatus.CONFLICT)
    current = {
        "title": proposal.title, "body": proposal.body, "category": proposal.category,
        "voting_type": proposal.voting_type, "choices": proposal.choices, "start": proposal.start,
        "end": proposal.end, "quorum_kind": proposal.quorum_kind, "quorum_value": proposal.quorum_value,
    }
    unknown = set(changes) - set(current)
    if unknown:
        raise GovernanceError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    fields = _clean_fields(**{**current, **changes})
    for name, value in fields.items():
        setattr(proposal, name, value)
    proposal.updated = timezone.now()
    proposal.full_clean(exclude=["thread", "author"])
    proposal.save()
    _log(proposal, ProposalEvent.Kind.UPDATED, actor=editor)
    return proposal


def proposal_activate(*, proposal: Proposal, actor) -> Proposal:
    """Open a draft for voting: fix the snapshot block, copy the strategies, fix a percent quorum in tokens.

    The author or an admin may do it. Voting opens at the proposal's start (now, if that has passed) and the end
    must still be ahead. Raises ChainUnavailable when the snapshot cannot be fixed.
    """
    from governance.strategies import default_strategies, snapshot_fix, total_supply_at

    if not (_is_author(actor, proposal) or _is_admin(actor)):
        raise GovernanceError("Only the author or an admin can open this proposal for voting.", HTTPStatus.FORBIDDEN)
    if proposal.state != ProposalState.DRAFT:
        raise GovernanceError(f"{proposal.label} is not a draft, so it cannot be opened again.", HTTPStatus.CONFLICT)
    now = timezone.now().replace(microsecond=0)  # signed timestamps are whole seconds
    if proposal.end <= now + timedelta(minutes=1):
        raise GovernanceError("The voting period has already ended: move the end into the future first.")
    strategies = default_strategies()
    if not strategies:
        raise GovernanceError(
            "No voting strategies are configured (the loyalty token is not deployed?), so nobody could vote.",
            HTTPStatus.CONFLICT,
        )
    snapshot_block, snapshot_time = snapshot_fix()
    quorum = proposal.quorum
    if proposal.quorum_kind == QuorumKind.PERCENT:
        supply = total_supply_at(strategies=strategies, snapshot_block=snapshot_block, snapshot_time=snapshot_time)
        quorum = format((supply * Decimal(proposal.quorum_value) / 100).quantize(tallies.WEI), "f")
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.activated_at is not None:
            raise GovernanceError(f"{proposal.label} is already open.", HTTPStatus.CONFLICT)
        locked.snapshot_block = snapshot_block
        locked.snapshot_time = snapshot_time
        locked.strategies = [s.to_json() for s in strategies]
        locked.quorum = quorum
        locked.start = max(locked.start, now).replace(microsecond=0)  # signed timestamps are whole seconds
        locked.activated_at = now
        locked.updated = now
        locked.full_clean(exclude=["thread", "author"])
        locked.save()
        ProposalTally.objects.get_or_create(
            proposal=locked, defaults={"state": tallies.state_to_json(tallies.new_state(locked.voting_type, len(locked.choice_names)))}
        )
        _log(
            locked, ProposalEvent.Kind.ACTIVATED, actor=actor,
            note=f"Snapshot at block {snapshot_block}; voting from {locked.start:%Y-%m-%d %H:%M} to {locked.end:%Y-%m-%d %H:%M} UTC.",
        )
    return locked


@transaction.atomic
def proposal_cancel(*, proposal: Proposal, actor, reason: str) -> Proposal:
    """An admin cancels a proposal at any point before it is executed, with a reason."""
    if not _is_admin(actor):
        raise GovernanceError("Only an admin can cancel a proposal.", HTTPStatus.FORBIDDEN)
    reason = (reason or "").strip()
    if not reason:
        raise GovernanceError("Say why the proposal is cancelled.")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.executed_at or proposal.cancelled_at:
        raise GovernanceError(f"{proposal.label} is already {proposal.state}.", HTTPStatus.CONFLICT)
    proposal.cancelled_at = timezone.now()
    proposal.cancel_reason = reason[:500]
    proposal.save(update_fields=["cancelled_at", "cancel_reason"])
    _log(proposal, ProposalEvent.Kind.CANCELLED, actor=actor, note=reason[:500])
    transaction.on_commit(lambda: _broadcast_safely(proposal.number))
    return proposal


@transaction.atomic
def proposal_mark_executed(*, proposal: Proposal, actor, tx_hash: str) -> Proposal:
    """An admin records that a passed proposal was carried out on-chain (transaction hash)."""
    from governance.selectors import proposal_results

    if not _is_admin(actor):
        raise GovernanceError("Only an admin can mark a proposal executed.", HTTPStatus.FORBIDDEN)
    tx_hash = (tx_hash or "").strip()
    if not TX_HASH.match(tx_hash):
        raise GovernanceError("Give the transaction hash: 0x followed by 64 hex digits.")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state != ProposalState.CLOSED:
        raise GovernanceError(f"{proposal.label} is {proposal.state}; only a closed proposal can be executed.", HTTPStatus.CONFLICT)
    if proposal_results(proposal=proposal).outcome != "passed":
        raise GovernanceError(f"{proposal.label} did not pass, so it cannot be executed.", HTTPStatus.CONFLICT)
    proposal.executed_at = timezone.now()
    proposal.execution_tx = tx_hash.lower()
    proposal.save(update_fields=["executed_at", "execution_tx"])
    _log(proposal, ProposalEvent.Kind.EXECUTED, actor=actor, note=f"Transaction {tx_hash.lower()}.")
    return proposal


def proposal_close_if_due(*, proposal: Proposal) -> bool:
    """Record the close of a proposal whose end has passed (timeline entry, voters notified), once.

    The state already follows the clock; this only writes the log and the notifications. Called lazily when a
    closed proposal is read, and by `proposals_close_due()` for a periodic job. Returns True if it recorded now.
    """
    if proposal.activated_at is None or proposal.close_recorded_at or timezone.now() < proposal.end:
        return False
    with transaction.atomic():
        won = Proposal.objects.filter(pk=proposal.pk, close_recorded_at__isnull=True).update(
            close_recorded_at=timezone.now()
        )
        if not won:
            return False
        _freeze_tally(proposal)
        if proposal.cancelled_at is None:
            from governance.selectors import proposal_results

            results = proposal_results(proposal=proposal)
            _log(proposal, ProposalEvent.Kind.CLOSED, at=proposal.end, note=results.outcome_sentence)
            _notify_voters(proposal, results.outcome_sentence)
    proposal.close_recorded_at = timezone.now()
    return True


def _freeze_tally(proposal: Proposal) -> None:
    """At close, replace the running sums with the exact recount, so the published result is what a recount gives
    (the running sums of weighted and quadratic votes can differ from it in the last digits)."""
    n = len(proposal.choice_names)
    rows = Vote.objects.filter(proposal=proposal).values_list("choice", "weight").iterator(chunk_size=5000)
    state, voters = tallies.recount_state(
        proposal.voting_type, n, ((tallies.parse_choice(proposal.voting_type, n, c), Decimal(w)) for c, w in rows)
    )
    ProposalTally.objects.update_or_create(
        proposal=proposal, defaults={"state": tallies.state_to_json(state), "voters": voters, "updated": timezone.now()}
    )
    proposal._state.fields_cache.pop("tally", None)  # the results below read the frozen row


def proposals_close_due() -> int:
    """Record every proposal that closed since the last call (for the health sampler or a cron job)."""
    due = Proposal.objects.filter(activated_at__isnull=False, close_recorded_at__isnull=True, end__lte=timezone.now())
    return sum(proposal_close_if_due(proposal=p) for p in due)


def _notify_voters(proposal: Proposal, sentence: str) -> None:
    try:
        from portal.notifications.services import notify
    except ImportError:
        return
    from django.contrib.auth import get_user_model

    voters = list(proposal.votes.values_list("voter", flat=True))
    if not voters:
        return
    users = get_user_model().objects.filter(socialaccount__provider="siwe", socialaccount__uid__in=voters).distinct()
    notify(
        recipients=list(users), verb="proposal_closed", text=f"{proposal.label} closed: {sentence}",
        url=proposal.get_absolute_url(),
    )


# ---- votes ------------------------------------------------------------------------------------------------------


def vote_cast(*, proposal: Proposal, ballot: SignedBallot, now: float | None = None) -> Vote:
    """Count a signed vote (CONTRACT, Signed votes), replacing the voter's earlier vote on this proposal.

    Refuses with GovernanceError and stores nothing when: the proposal is not open, the timestamp is more than
    10 minutes from the server's clock or outside the voting window, the choice does not fit the voting type, the
    signature is not the voter's (EOA or EIP-1271) for this proposal and deployment, a dev key votes where they are
    refused, the voter had no weight at the snapshot block, or a newer vote is already counted. Raises
    ChainUnavailable (503) when the weight cannot be read.
    """
    now = time.time() if now is None else now
    state = proposal.state_at(datetime.fromtimestamp(now, tz=timezone.get_current_timezone()))
    if state == ProposalState.DRAFT:
        raise GovernanceError(f"{proposal.label} is still a draft: voting has not opened.", HTTPStatus.CONFLICT)
    if state == ProposalState.PENDING:
        raise GovernanceError(
            f"Voting on {proposal.label} opens at {proposal.start:%Y-%m-%d %H:%M} UTC.", HTTPStatus.CONFLICT
        )
    if state == ProposalState.CANCELLED:
        raise GovernanceError(f"{proposal.label} was cancelled: it takes no more votes.", HTTPStatus.CONFLICT)
    if state != ProposalState.ACTIVE:
        raise GovernanceError(
            f"Voting on {proposal.label} closed at {proposal.end:%Y-%m-%d %H:%M} UTC.", HTTPStatus.CONFLICT
        )
    if ballot.proposal != proposal.number:
        raise GovernanceError(
            f"This signature is for LIP-{ballot.proposal}, not {proposal.label}.", HTTPStatus.BAD_REQUEST
        )
    drift = ballot.timestamp - now
    if abs(drift) > TIMESTAMP_TOLERANCE_SECONDS:
        when = "in the future" if drift > 0 else "too old"
        raise GovernanceError(
            f"The vote's timestamp is {when}: it must be within 10 minutes of the server's clock "
            f"({int(now)} unix seconds). Check your computer's clock and sign again.",
            HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    if not (proposal.start.timestamp() <= ballot.timestamp < proposal.end.timestamp()):
        raise GovernanceError(
            "The vote's timestamp is outside the voting window of this proposal.", HTTPStatus.UNPROCESSABLE_ENTITY
        )
    choices = proposal.choice_names
    try:
        parsed = tallies.parse_choice(proposal.voting_type, len(choices), ballot.choice)
    except tallies.InvalidChoice as exc:
        raise GovernanceError(str(exc), HTTPStatus.UNPROCESSABLE_ENTITY) from None
    conf = portal_settings()
    if conf.refuse_dev_keys and conf.is_dev_account(ballot.voter):
        raise GovernanceError(
            "Votes from the public development keys are refused on this deployment.", HTTPStatus.FORBIDDEN
        )
    domain = eip712_domain()
    try:
        receipt = ballot.verify(domain=domain)  # may ask a contract wallet (ChainUnavailable → 503)
    except BadSignature as exc:
        raise GovernanceError(str(exc), HTTPStatus.BAD_REQUEST) from None
    # Counted per proven signer, so nobody can use up someone else's budget with forged envelopes.
    Limit("vote-cast", portal_settings().votes_per_minute, 60).hit(
        ballot.voter.lower(), message="Too many votes from this wallet. Please wait a minute and try again."
    )
    weight = snapshot_weight(proposal=proposal, address=ballot.voter)
    if weight <= 0:
        raise GovernanceError(
            f"{ballot.voter} had no voting weight at the snapshot block {proposal.snapshot_block}, so the vote "
            "cannot count. Weight comes from loyalty tokens delegated before the proposal opened.",
            HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    return _store_vote(proposal, ballot, parsed, weight, receipt, domain)


def _store_vote(proposal, ballot: SignedBallot, parsed, weight: Decimal, receipt: str, domain: dict) -> Vote:
    n = len(proposal.choice_names)
    with transaction.atomic():
        running, _ = ProposalTally.objects.select_for_update().get_or_create(
            proposal=proposal,
            defaults={"state": tallies.state_to_json(tallies.new_state(proposal.voting_type, n))},
        )
        state = tallies.state_from_json(running.state)
        earlier = Vote.objects.filter(proposal=proposal, voter=ballot.voter).first()
        if earlier is not None:
            if earlier.timestamp >= ballot.timestamp:
                raise GovernanceError(
                    "A vote signed at the same time or later is already counted for this wallet; sign a new one.",
                    HTTPStatus.CONFLICT,
                )
            old = tallies.parse_choice(proposal.voting_type, n, earlier.choice)
            tallies.accumulate(proposal.voting_type, n, state, old, earlier.weight_amount, sign=-1)
        tallies.accumulate(proposal.voting_type, n, state, parsed, weight)
        now = timezone.now()
        fields = {
            "choice": ballot.choice,
            "reason": ballot.reason,
            "timestamp": ballot.timestamp,
            "signature": ballot.signature,
            "receipt": receipt,
            "weight": format(weight, "f"),
            "weight_sort": float(weight),
            "payload": typed_data(domain=domain, message=ballot.message()),
            "updated": now,
        }
        if earlier is None:
            vote = Vote(proposal=proposal, voter=ballot.voter, created=now, **fields)
            running.voters += 1
        else:
            vote = earlier
            for name, value in fields.items():
                setattr(vote, name, value)
        vote.full_clean(exclude=["proposal"])
        vote.save()
        running.state = tallies.state_to_json(state)
        running.updated = now
        running.save(update_fields=["state", "voters", "updated"])
        number = proposal.number
        transaction.on_commit(lambda: _broadcast_safely(number))
    return vote


def _broadcast_safely(number: int) -> None:
    from governance.consumers import tally_broadcast

    try:
        tally_broadcast(number=number)
    except Exception:  # a broken channel layer must not turn a counted vote into an error
        log.exception("broadcasting the tally of LIP-%s failed", number)
