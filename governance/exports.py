"""The recount file of a proposal (docs/recount-format.md) as the bytes `GET /api/v1/proposals/{number}/export` serves.

While a proposal can still change (open, or closed by the clock before its close is recorded) the file is streamed:
the votes are read in batches of EXPORT_BATCH by id, so memory stays flat however many there are. Once the close is
recorded no vote can change any more (vote_cast refuses after the end, and a vote that got the tally lock before
the close committed before it), so the file is computed once and stored as a ProposalExport row: the bytes, their
sha256 (the ETag) and a version — the sha256 of the file's proposal part (state, risk change and its on-chain
check, …) and EXPORT_REVISION. Whatever changes a closed proposal's file (an execution, a cancel, a risk check)
changes that part, so a copy of an older version is never served: until the new one is stored the file is streamed.
The storing is a durable effect (`export_store_later`) queued in the transaction of the write that recorded the
close or changed the file; a GET never writes.

A database row, not Django's file storage: it commits with the same database the proposal lives in, so several
workers (or machines) agree on one copy through the unique (proposal, version) constraint with no shared volume or
file-system race, and a database backup holds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import selectors
from governance.eip712 import eip712_domain, typed_data
from governance.models import Proposal, ProposalExport, Vote
from governance.recount import FORMAT
from governance.strategies import Strategy
from governance.voting import amount_text, voting_method
from portal.effects.services import durable, effect_enqueue

EXPORT_BATCH = 1000
EXPORT_REVISION = 2  # bump when the file's computation changes: every stored copy is then computed again
_VOTE_FIELDS = ("id", "voter", "choice", "reason", "timestamp", "signature", "receipt", "weight", "signer_kind",
                "verified_block", "verified_block_hash")


def proposal_section(*, proposal: Proposal) -> dict:
    """The file's `proposal` part: everything in the file that can change after the close lives here."""
    return {
        "number": proposal.number,
        "title": proposal.title,
        "voting_type": proposal.voting_type,
        "choices": proposal.choice_names,
        "start": proposal.start.isoformat(),
        "end": proposal.end.isoformat(),
        "snapshot_block": proposal.snapshot_block,
        "snapshot_time": proposal.snapshot_time.isoformat() if proposal.snapshot_time else None,
        # Through Strategy, not the stored JSON: PostgreSQL's jsonb hands its keys back in its own order, and the file
        # (its bytes, its ETag) must be the same whichever database kept the proposal.
        "strategies": [Strategy.from_json(item).to_json() for item in proposal.strategies],
        "quorum": amount_text(proposal.quorum_amount),
        "state": proposal.state,
        "risk_change": selectors.risk_change_json(proposal=proposal),
    }


def export_head(*, proposal: Proposal) -> dict:
    """The file without its votes: format, time, proposal, EIP-712 domain and the published result (one recount)."""
    domain = (proposal.votes.values_list("payload", flat=True).first() or {}).get("domain") or eip712_domain()
    recount = selectors.proposal_recount(proposal=proposal)
    published = selectors.results_from_scores(proposal, recount.scores, recount.total, recount.voters)
    method = voting_method(proposal.voting_type)
    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "proposal": proposal_section(proposal=proposal),
        "eip712": typed_data(domain=domain),
        "result": {
            "choices": [
                {"number": c.number, "choice": c.name, "weight": amount_text(c.weight)} for c in published.choices
            ],
            "total_weight": amount_text(published.total),
            "voters": published.voters,
            "quorum_reached": published.quorum_reached,
            "outcome": method.decide(published.scores, published.total, proposal.quorum_amount)[0],
        },
    }


def _vote_record(row: tuple) -> dict:
    _, voter, choice, reason, timestamp, signature, receipt, weight, signer, block, block_hash = row
    return {
        "voter": voter, "choice": choice, "reason": reason, "timestamp": timestamp, "signature": signature,
        "receipt": receipt, "weight": amount_text(weight), "signer": signer or None, "verified_block": block,
        "verified_block_hash": block_hash or None,
    }


def vote_records(*, proposal: Proposal, batch: int = EXPORT_BATCH) -> Iterator[list[dict]]:
    """Every vote of the file, in id order, `batch` at a time (one query each: keyset by id, no open cursor)."""
    last = 0
    while True:
        rows = list(Vote.objects.filter(proposal=proposal, id__gt=last).order_by("id").values_list(*_VOTE_FIELDS)[:batch])
        if not rows:
            return
        yield [_vote_record(row) for row in rows]
        last = rows[-1][0]


def export_chunks(*, proposal: Proposal, batch: int = EXPORT_BATCH) -> Iterator[bytes]:
    """The file as JSON bytes, piece by piece: exactly `json.dumps(proposal_export(...))` (the API's JSON, default
    separators, ASCII), the head first and then one piece per batch of votes."""
    head = json.dumps(export_head(proposal=proposal))
    yield (head[:-1] + ', "votes": [').encode()
    separator = ""
    for records in vote_records(proposal=proposal, batch=batch):
        yield (separator + ", ".join(json.dumps(record) for record in records)).encode()
        separator = ", "
    yield b"]}"


def proposal_export(*, proposal: Proposal) -> dict:
    """The recount file of a proposal as a dict: the proposal, the EIP-712 domain, every signed vote and the
    published result. Every amount is a decimal string (`amount_text`)."""
    return {**export_head(proposal=proposal),
            "votes": [record for records in vote_records(proposal=proposal) for record in records]}


def export_version(*, proposal: Proposal) -> str:
    """What a stored copy must match to be served: the revision and the file's proposal part."""
    text = json.dumps([EXPORT_REVISION, FORMAT, proposal_section(proposal=proposal)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def export_stored(*, proposal: Proposal) -> ProposalExport | None:
    """The stored file of a proposal for its current version, or None (still open, or not stored yet): a read that
    writes nothing. The writers that change a closed proposal's file call `export_store_later`."""
    if proposal.close_recorded_at is None:
        return None
    return ProposalExport.objects.filter(proposal=proposal, version=export_version(proposal=proposal)).first()


def export_store_later(*, proposal: Proposal) -> None:
    """Queue, in the caller's transaction, the computing and storing of the file's current version: called when the
    close is recorded and by every write that changes a closed proposal's file part (execution, cancel, risk check).
    Keyed by the version, so the same version is queued once; until it is stored, the API streams the same bytes."""
    fresh = Proposal.objects.get(pk=proposal.pk)  # as written: the caller's copy may hold a stale risk change
    effect_enqueue(export_store, key=f"export:{fresh.pk}:{export_version(proposal=fresh)}", proposal_id=fresh.pk)


@durable(eager=True, atomic=False, lease_seconds=600)
def export_store(*, proposal_id: int) -> None:
    """Compute the file of a closed proposal and store it for its current version (older versions go with it).

    Safe under concurrency: two runs may both compute, but the unique (proposal, version) constraint lets one copy
    in, so every answer for a version is the same bytes."""
    proposal = Proposal.objects.get(pk=proposal_id)
    if proposal.close_recorded_at is None or export_stored(proposal=proposal) is not None:
        return
    version = export_version(proposal=proposal)
    body = b"".join(export_chunks(proposal=proposal))
    try:
        with transaction.atomic():
            ProposalExport.objects.filter(proposal=proposal).exclude(version=version).delete()
            ProposalExport.objects.create(
                proposal=proposal, version=version, body=body, sha256=hashlib.sha256(body).hexdigest(), size=len(body)
            )
    except IntegrityError:  # another run stored this version first
        pass


def export_file(*, proposal: Proposal) -> bytes:
    """The file's bytes as the API serves them now: the stored copy when there is one, else computed."""
    stored = export_stored(proposal=proposal)
    return bytes(stored.body) if stored is not None else b"".join(export_chunks(proposal=proposal))
