"""The one place a signed vote is counted: every check of CONTRACT's "Signed votes", then the vote and the running
tally in one transaction, the tally's row lock (which serialises every vote on a proposal) taken last; watchers get
the new tally after commit."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http import HTTPStatus

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance import selectors
from governance.eip712 import SignedBallot, eip712_domain, typed_data
from governance.live import tally_broadcast_coalesced
from governance.models import Proposal, ProposalState, ProposalTally, SnapshotWeight, Vote
from governance.services.weights import voter_weight
from governance.signers import SignerProof
from governance.voting import TallyState, voting_method
from governance.webhooks import vote_cast_event
from portal.conf import portal_settings
from portal.errors import Conflict, Forbidden, Refusal
from portal.health.models import Webhook
from portal.ratelimit import Limit

TIMESTAMP_TOLERANCE_SECONDS = 600


def _check_open(proposal: Proposal, now: float) -> None:
    state = selectors.effective_state(proposal=proposal, now=datetime.fromtimestamp(now, tz=timezone.get_current_timezone()))
    if state == ProposalState.DRAFT:
        raise Conflict(f"{proposal.label} is still a draft: voting has not opened.")
    if state == ProposalState.PENDING:
        raise Conflict(f"Voting on {proposal.label} opens at {proposal.start:%Y-%m-%d %H:%M} UTC.")
    if state == ProposalState.CANCELLED:
        raise _cancelled(proposal)
    if state != ProposalState.ACTIVE:
        raise _closed(proposal)


def _cancelled(proposal: Proposal) -> Conflict:
    return Conflict(f"{proposal.label} was cancelled: it takes no more votes.")


def _closed(proposal: Proposal) -> Conflict:
    return Conflict(f"Voting on {proposal.label} closed at {proposal.end:%Y-%m-%d %H:%M} UTC.")


def _check_timestamp(proposal: Proposal, ballot: SignedBallot, now: float) -> None:
    drift = ballot.timestamp - now
    if abs(drift) > TIMESTAMP_TOLERANCE_SECONDS:
        when = "in the future" if drift > 0 else "too old"
        raise Refusal(
            f"The vote's timestamp is {when}: it must be within 10 minutes of the server's clock "
            f"({int(now)} unix seconds). Check your computer's clock and sign again.",
            HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    if not (proposal.start.timestamp() <= ballot.timestamp < proposal.end.timestamp()):
        raise Refusal(
            "The vote's timestamp is outside the voting window of this proposal.", HTTPStatus.UNPROCESSABLE_ENTITY
        )


def vote_cast(*, proposal: Proposal, ballot: SignedBallot, now: float | None = None) -> Vote:
    """Count a signed vote (CONTRACT, Signed votes), replacing the voter's earlier vote on this proposal.

    Raises a Refusal and stores nothing when: the proposal is not open, the timestamp is more than 10 minutes from
    the server's clock or outside the voting window, the choice does not fit the voting type, the signature is not
    the voter's (EOA, EIP-1271 or EIP-6492) for this proposal and deployment (BadSignature), a dev key votes where they are
    refused, the wallet votes too fast (RateLimited), the voter had no weight at the snapshot block, or a newer vote
    is already counted. Raises ChainUnavailable (503) when the weight cannot be read.
    """
    now = time.time() if now is None else now
    _check_open(proposal, now)
    if ballot.proposal != proposal.number:
        raise Refusal(f"This signature is for LIP-{ballot.proposal}, not {proposal.label}.")
    _check_timestamp(proposal, ballot, now)
    parsed = voting_method(proposal.voting_type).parse(ballot.choice, len(proposal.choice_names))  # InvalidChoice (422)
    conf = portal_settings()
    if conf.refuse_dev_keys and conf.is_dev_account(ballot.voter):
        raise Forbidden("Votes from the public development keys are refused on this deployment.")
    domain = eip712_domain()
    # BadSignature (400); a contract wallet may be asked (ChainUnavailable). The proof keeps the block it answered at.
    receipt, proof = ballot.check(domain=domain)
    # Counted per proven signer, so nobody can use up someone else's budget with forged envelopes.
    Limit("vote-cast", conf.votes_per_minute, 60).hit(
        ballot.voter.lower(), message="Too many votes from this wallet: at most {count} vote{s} a {per}. Please wait {wait} and try again."
    )
    return _store_vote(proposal, ballot, parsed, receipt, domain, proof)


class _WeightNotStored(Exception):
    """The voter's snapshot weight was not read ahead: read it (an RPC, outside the transaction) and try again."""


def _store_vote(proposal: Proposal, ballot: SignedBallot, parsed, receipt: str, domain: dict, proof: SignerProof) -> Vote:
    weight, raced = None, False  # normally stored when voting opened (read ahead): read with the earlier vote
    while True:
        try:
            return _store_vote_once(proposal, ballot, parsed, weight, receipt, domain, proof)
        except _WeightNotStored:  # once at most: the weight is known from here on
            weight = voter_weight(proposal=proposal, address=ballot.voter)  # one batched read, stored; ChainUnavailable
        except IntegrityError:
            # The same wallet's first vote committed between our look for it and our insert (one_vote_per_voter):
            # once more, now as a replacement of it (or refused as older).
            if raced:
                raise
            raced = True


def _no_weight(proposal: Proposal, ballot: SignedBallot) -> Refusal:
    return Refusal(
        f"{ballot.voter} had no voting power when it was measured (block {proposal.snapshot_block}, as voting "
        "opened), so the vote cannot count. Voting power comes from loyalty tokens delegated before then.",
        HTTPStatus.UNPROCESSABLE_ENTITY,
    )


_EARLIER_FIELDS = ("id", "timestamp", "choice", "weight", "created")


def _weight_and_earlier_vote(proposal: Proposal, voter: str):
    """One query: the voter's stored snapshot weight (None when not read ahead), whether any webhook is active (so
    a vote on a site without webhooks asks nothing more for them) and their earlier vote on the proposal (None when
    this is their first), the vote's row locked FOR UPDATE until the commit (on PostgreSQL; a SQLite write
    transaction holds the whole database), so only the same wallet's votes wait for each other."""
    quote = connection.ops.quote_name
    fields = ", ".join(f"v.{quote(f)}" for f in _EARLIER_FIELDS)
    columns = ", ".join(quote(f) for f in _EARLIER_FIELDS)
    weights, votes = quote(SnapshotWeight._meta.db_table), quote(Vote._meta.db_table)
    if connection.features.has_select_for_update:  # the locked row is re-read at its latest version after a wait
        earlier = (f"LEFT JOIN LATERAL (SELECT {columns} FROM {votes} WHERE proposal_id = %s AND voter = %s "
                   "FOR UPDATE) v ON TRUE")
    else:
        earlier = f"LEFT JOIN {votes} v ON v.proposal_id = %s AND v.voter = %s"
    hooks = quote(Webhook._meta.db_table)
    sql = (f"SELECT (SELECT weight FROM {weights} WHERE proposal_id = %s AND voter = %s), "
           f"EXISTS (SELECT 1 FROM {hooks} WHERE active), {fields} FROM (SELECT 1) one {earlier}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [proposal.pk, voter, proposal.pk, voter])
        weight, listened, pk, *rest = cursor.fetchone()
    if pk is None:
        return weight, bool(listened), None
    timestamp, choice, vote_weight, created = rest
    if isinstance(created, str):  # SQLite's raw cursor may answer the stored text (UTC)
        created = parse_datetime(created)
    if timezone.is_naive(created):
        created = timezone.make_aware(created, UTC)
    return weight, bool(listened), _Earlier(pk, int(timestamp), choice, vote_weight, created)


@dataclass(frozen=True)
class _Earlier:
    pk: int
    timestamp: int
    choice: str
    weight: str
    created: datetime


@transaction.atomic
def _store_vote_once(
    proposal: Proposal, ballot: SignedBallot, parsed, weight: Decimal | None, receipt: str, domain: dict,
    proof: SignerProof,
) -> Vote:
    """The voter's weight and earlier vote first (that vote's row locked, so only the same wallet's votes wait for
    each other), then the vote's row and its webhooks, and only then, last, the tally's row lock that every vote on
    the proposal waits for: under it, the proposal is checked again to be unclosed and the vote is folded into the
    running sums. `weight` is the one just read when it was not stored (else _WeightNotStored)."""
    method, n = voting_method(proposal.voting_type), len(proposal.choice_names)
    stored, listened, earlier = _weight_and_earlier_vote(proposal, ballot.voter)
    if stored is not None:
        weight = Decimal(stored)
    elif weight is None:
        raise _WeightNotStored
    if weight <= 0:
        raise _no_weight(proposal, ballot)
    if earlier is not None and earlier.timestamp >= ballot.timestamp:
        raise Conflict("A vote signed at the same time or later is already counted for this wallet; sign a new one.")
    replaced = None if earlier is None else (method.parse(earlier.choice, n), Decimal(earlier.weight))
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
        "signer_kind": proof.kind,
        "verified_block": proof.block_number,
        "verified_block_hash": proof.block_hash or "",
        "updated": now,
    }
    vote = Vote(pk=None if earlier is None else earlier.pk, proposal=proposal, voter=ballot.voter,
                created=now if earlier is None else earlier.created, **fields)
    vote._state.adding = earlier is None  # a replacement is the stored row (full_clean checks no id clash)
    vote.full_clean(exclude=["proposal"])
    _vote_write(vote, fields, insert=earlier is None)  # a replacement keeps the row's id and created
    if listened:
        vote_cast_event(proposal=proposal, vote=vote)  # webhooks, queued with the vote
    _tally_fold(proposal, method, n, parsed, weight, replaced)
    tally_broadcast_coalesced(number=proposal.number)
    return vote


def _vote_write(vote: Vote, fields: dict, *, insert: bool) -> None:
    """The vote's row in one plain statement: a new row (every column; its id read back) or the replaced vote's
    `fields`. What Model.save would send, the values prepared by the fields themselves, without its ~0.4 ms of query
    building on every vote (no signal listens to votes)."""
    opts = Vote._meta
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    if insert:
        columns = [f for f in opts.concrete_fields if not f.primary_key]
    else:
        columns = [opts.get_field(name) for name in fields]
    values = [f.get_db_prep_save(getattr(vote, f.attname), connection) for f in columns]
    names = [quote(f.column) for f in columns]
    pk = quote(opts.pk.column)
    with connection.cursor() as cursor:
        if not insert:
            cursor.execute(f"UPDATE {table} SET {', '.join(f'{n} = %s' for n in names)} WHERE {pk} = %s",
                           [*values, vote.pk])
            return
        returning = connection.features.can_return_columns_from_insert
        cursor.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"
                       + (f" RETURNING {pk}" if returning else ""), values)
        vote.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    vote._state.adding, vote._state.db = False, connection.alias


def _tally_fold(proposal: Proposal, method, n: int, parsed, weight: Decimal, replaced) -> None:
    """Under the tally's row lock, held from here to the commit: the close (closing._freeze_tally) takes the same
    lock, so a close that committed first is seen here and the vote is refused; a vote that commits first is
    in the close's recount. Two statements in plain SQL (every vote on the proposal waits for the lock while they
    run): the locked row, then its update, whose RETURNING reads the proposal's close and cancel. That read is a
    statement begun after the lock was granted, so it sees a close or cancel that committed while this vote waited
    (the locking statement's own snapshot is older)."""
    quote = connection.ops.quote_name
    tallies, proposals = quote(ProposalTally._meta.db_table), quote(Proposal._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: the write transaction
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT state, voters FROM {tallies} WHERE proposal_id = %s{lock}", [proposal.pk])
        row = cursor.fetchone()
    if row is None:  # no running row yet (made when voting opens): make it, locked
        running, _ = ProposalTally.objects.select_for_update().get_or_create(
            proposal=proposal, defaults={"state": method.empty(n).to_json()},
        )
        row = (running.state, running.voters)
    stored, voters = row
    state = TallyState.from_json(json.loads(stored) if isinstance(stored, str) else stored)
    if replaced is None:
        voters += 1
    else:
        method.fold(state, *replaced, sign=-1)
    method.fold(state, parsed, weight)
    state_field = ProposalTally._meta.get_field("state")
    # `updated` is written under the lock: the close compares it to see whether a vote came in between.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {tallies} SET state = %s, voters = %s, updated = %s WHERE proposal_id = %s RETURNING "
            f"(SELECT close_recorded_at IS NOT NULL FROM {proposals} WHERE id = %s), "
            f"(SELECT cancelled_at IS NOT NULL FROM {proposals} WHERE id = %s)",
            [state_field.get_db_prep_save(state.to_json(), connection), voters,
             connection.ops.adapt_datetimefield_value(timezone.now()), proposal.pk, proposal.pk, proposal.pk],
        )
        closed, cancelled = cursor.fetchone()
    if cancelled:  # the transaction rolls back, the update with it
        raise _cancelled(proposal)
    if closed:
        raise _closed(proposal)
