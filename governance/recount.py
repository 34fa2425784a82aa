"""The recount file (docs/recount-format.md) and an independent recount from that file and any RPC endpoint.

governance.exports builds the file; `recount()` needs nothing but the file: it re-verifies every signature under the
file's EIP-712 domain, re-reads every weight through the batched reader at the file's snapshot block, recomputes the
tally with the same voting objects the portal counts with, and lists every difference from what the portal published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.test import override_settings

from governance.chain import ChainUnavailable
from governance.eip712 import BadSignature, SignedBallot
from governance.strategies import Strategy, voting_weights
from governance.voting import Ballot, InvalidChoice, TallyResult, VotingMethod, amount_text, voting_method
from portal.errors import Refusal

FORMAT = "dao-portal-recount/1"
WEIGHT_CHUNK = 500

Progress = Callable[[str, int, int], None]


@dataclass
class RecountReport:
    votes: int = 0
    differences: list[str] = field(default_factory=list)
    scores: list[Decimal] = field(default_factory=list)
    total: Decimal = Decimal(0)
    outcome: str = ""

    @property
    def matches(self) -> bool:
        return not self.differences


class RecountFileError(Refusal):
    """The file is not a recount file, or lacks what a recount needs."""


@dataclass(frozen=True)
class RecountFile:
    """What a recount reads from the file, checked for shape."""

    number: int
    method: VotingMethod
    choices: list[str]
    strategies: list[Strategy]
    snapshot_block: int
    snapshot_time: datetime | None
    quorum: Decimal
    domain: dict
    votes: list[dict]
    published: dict

    @classmethod
    def read(cls, export: dict) -> RecountFile:
        """The file's parts, each checked; a RecountFileError names the first part that is missing or wrong."""
        if not isinstance(export, dict) or export.get("format") != FORMAT:
            raise RecountFileError(f"This is not a recount file of format {FORMAT}.")
        proposal, votes = _part(export, "proposal", dict), _part(export, "votes", list)
        if not all(isinstance(vote, dict) for vote in votes):
            raise RecountFileError("The recount file is malformed: every entry of “votes” must be an object.")
        snapshot_time = proposal.get("snapshot_time")
        return cls(
            number=_field("proposal.number", lambda: int(proposal["number"])),
            method=_field("proposal.voting_type", lambda: voting_method(proposal["voting_type"])),
            choices=_field("proposal.choices", lambda: [str(choice) for choice in _typed(proposal["choices"], list)]),
            strategies=_field("proposal.strategies",
                              lambda: [Strategy.from_json(s) for s in _typed(proposal["strategies"], list)]),
            snapshot_block=_field("proposal.snapshot_block", lambda: int(proposal["snapshot_block"])),
            snapshot_time=_field("proposal.snapshot_time",
                                 lambda: datetime.fromisoformat(snapshot_time) if snapshot_time else None),
            quorum=_field("proposal.quorum", lambda: Decimal(proposal.get("quorum") or "0")),
            domain=_field("eip712.domain", lambda: _typed(_part(export, "eip712", dict)["domain"], dict)),
            votes=votes,
            published=_part(export, "result", dict),
        )


def _part(export: dict, name: str, kind: type):
    value = export.get(name)
    if not isinstance(value, kind):
        what = "an object" if kind is dict else "a list"
        raise RecountFileError(f"The recount file is malformed: “{name}” must be {what}.")
    return value


def _typed(value, kind: type):
    if not isinstance(value, kind):
        raise TypeError(kind.__name__)
    return value


def _field(name: str, read: Callable):
    """`read()`, or a RecountFileError naming the field (with the domain's own sentence when it has one)."""
    try:
        return read()
    except RecountFileError:
        raise
    except Refusal as exc:
        raise RecountFileError(f"The recount file is malformed at “{name}”: {exc.message}") from None
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise RecountFileError(f"The recount file is malformed: “{name}” is missing or not valid.") from None


def recount(export: dict, *, rpc_url: str | None = None, progress: Progress | None = None) -> RecountReport:
    """Recount a proposal from its recount file alone. `progress(stage, done, total)` is called as work proceeds.
    Raises RecountFileError for a file that cannot be read, ChainUnavailable when the node does not answer."""
    file = RecountFile.read(export)
    report = RecountReport(votes=len(file.votes))
    tick = progress or (lambda stage, done, total: None)
    with _pointed_at(rpc_url, int(file.domain["chainId"])):
        ballots = list(_verified_ballots(file, report, tick))
        weights = _chain_weights(file, [voter for voter, _ in ballots], tick)
    counted = list(_counted(file, ballots, weights, report))
    result = file.method.recount(file.choices, counted)
    report.scores, report.total = result.scores, result.total
    report.outcome = file.method.decide(result.scores, result.total, file.quorum)[0]
    report.differences.extend(_differences_from_published(file, result, report.outcome))
    return report


@contextmanager
def _pointed_at(rpc_url: str | None, chain_id: int):
    """Read the chain through `rpc_url` (the home chain for the duration) when given."""
    if not rpc_url:
        yield
        return
    with override_settings(PORTAL={**settings.PORTAL, "CHAIN_RPC_URL": rpc_url, "CHAIN_ID": chain_id}):
        yield


def _verified_ballots(file: RecountFile, report: RecountReport, tick: Progress) -> Iterator[tuple[str, Ballot]]:
    """(voter, parsed ballot) for every vote whose signature verifies and whose choice parses; the rest are noted."""
    seen: set[str] = set()
    for i, raw in enumerate(file.votes, start=1):
        where = f"vote {i} ({raw.get('voter', '?')})"
        try:
            signed = SignedBallot.from_fields(
                voter=raw["voter"], proposal=file.number, choice=raw["choice"], reason=raw.get("reason", ""),
                timestamp=raw["timestamp"], signature=raw["signature"],
            )
            pinned = _pinned_block(raw)
            receipt, proof = signed.check(domain=file.domain, at_block=pinned[0] if pinned else None)
        except (BadSignature, KeyError, RecountFileError) as exc:
            report.differences.append(f"{where}: the signature does not verify ({exc}).")
            tick("signatures", i, len(file.votes))
            continue
        except ChainUnavailable as exc:  # a node without that block's state: the sentence asks for an archive node
            report.differences.append(f"{where}: the wallet's signature could not be checked again ({exc.message})")
            tick("signatures", i, len(file.votes))
            continue
        if pinned and proof.block_hash != pinned[1]:
            report.differences.append(
                f"{where}: block {pinned[0]} on this node is {proof.block_hash}, but the wallet answered at "
                f"{pinned[1]}: the node follows another chain, or that block was replaced."
            )
        if receipt != raw.get("receipt"):
            report.differences.append(f"{where}: the receipt is {raw.get('receipt')}, the signed hash is {receipt}.")
        if signed.voter.lower() in seen:
            report.differences.append(f"{where}: a second vote by the same voter.")
        seen.add(signed.voter.lower())
        try:
            ballot = file.method.parse(raw["choice"], len(file.choices))
        except InvalidChoice as exc:
            report.differences.append(f"{where}: the choice is invalid ({exc.message}).")
            continue
        tick("signatures", i, len(file.votes))
        yield signed.voter, ballot


def _pinned_block(raw: dict) -> tuple[int, str] | None:
    """(number, hash) of the block a contract wallet's signature was verified at, or None (an EOA, or a file from
    before the block was recorded: the wallet is asked at the head)."""
    number, block_hash = raw.get("verified_block"), raw.get("verified_block_hash")
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int) or number < 0 or not isinstance(block_hash, str):
        raise RecountFileError("verified_block must be a block number with its verified_block_hash")
    return number, block_hash.lower()


def _chain_weights(file: RecountFile, voters: list[str], tick: Progress) -> dict[str, Decimal | None]:
    """Every voter's weight read at the file's snapshot, keyed by lower-case address (None: the read failed)."""
    weights: dict[str, Decimal | None] = {}
    for start in range(0, len(voters), WEIGHT_CHUNK):
        chunk = voters[start : start + WEIGHT_CHUNK]
        read = voting_weights(
            strategies=file.strategies, snapshot_block=file.snapshot_block, snapshot_time=file.snapshot_time,
            addresses=chunk,
        )
        weights.update((address.lower(), weight) for address, weight in read.items())
        tick("weights", min(start + WEIGHT_CHUNK, len(voters)), len(voters))
    return weights


def _counted(
    file: RecountFile, ballots: list[tuple[str, Ballot]], weights: dict[str, Decimal | None], report: RecountReport
) -> Iterator[tuple[Ballot, Decimal]]:
    """(ballot, weight) for every vote the chain gives weight; a weight that differs from the file's is noted."""
    stored = {str(raw.get("voter", "")).lower(): raw.get("weight") for raw in file.votes}
    for voter, ballot in ballots:
        weight = weights.get(voter.lower())
        if weight is None:
            report.differences.append(f"{voter}: the weight could not be read from the chain.")
            continue
        claimed = stored.get(voter.lower())
        if _decimal(claimed) != weight:
            report.differences.append(
                f"{voter}: the portal counted weight {claimed}, the chain says {amount_text(weight)}."
            )
        if weight > 0:
            yield ballot, weight
        else:
            report.differences.append(
                f"{voter}: no voting weight at block {file.snapshot_block}, yet the vote was counted."
            )


def _differences_from_published(file: RecountFile, result: TallyResult, outcome: str) -> Iterator[str]:
    published = file.published
    rows = published.get("choices", [])
    for i, name in enumerate(file.choices):
        claimed = _decimal(rows[i].get("weight")) if i < len(rows) else None
        if claimed != result.scores[i]:
            shown = amount_text(claimed) if claimed is not None else "nothing"
            yield f"Choice {i + 1} “{name}”: published {shown}, recounted {amount_text(result.scores[i])}."
    if _decimal(published.get("total_weight", "0")) != result.total:
        yield f"Total weight: published {published.get('total_weight')}, recounted {amount_text(result.total)}."
    if str(published.get("voters")) != str(result.voters):
        yield f"Voters: published {published.get('voters')}, recounted {result.voters}."
    if published.get("outcome") != outcome:
        yield f"Outcome: published {published.get('outcome')}, recounted {outcome}."


def _decimal(text) -> Decimal | None:
    """A published amount as a Decimal; None when it is missing or not a number (so it never matches)."""
    try:
        return Decimal(str(text)) if text is not None else None
    except ArithmeticError:
        return None
