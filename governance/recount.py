"""The recount file (docs/recount-format.md) and an independent recount from that file and any RPC endpoint.

`proposal_export()` builds the file; `recount()` needs nothing but the file: it re-verifies every signature under the
file's EIP-712 domain, re-reads every weight through the batched reader at the file's snapshot block, recomputes the
tally and lists every difference from what the portal published.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from governance import tally as tallies
from governance.eip712 import BadSignature, SignedBallot, typed_data

FORMAT = "dao-portal-recount/1"
WEIGHT_CHUNK = 500


def proposal_export(*, proposal) -> dict:
    """The recount file of a proposal: the proposal, the EIP-712 domain, every signed vote and the published result."""
    from governance.eip712 import eip712_domain
    from governance.selectors import proposal_recount, results_from_scores, vote_list

    domain = (
        proposal.votes.values_list("payload", flat=True).first() or {}
    ).get("domain") or eip712_domain()
    recount = proposal_recount(proposal=proposal)
    published = results_from_scores(proposal, recount.scores, recount.total, recount.voters)
    names = proposal.choice_names
    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "proposal": {
            "number": proposal.number,
            "title": proposal.title,
            "voting_type": proposal.voting_type,
            "choices": names,
            "start": proposal.start.isoformat(),
            "end": proposal.end.isoformat(),
            "snapshot_block": proposal.snapshot_block,
            "snapshot_time": proposal.snapshot_time.isoformat() if proposal.snapshot_time else None,
            "strategies": proposal.strategies,
            "quorum": proposal.quorum,
            "state": proposal.state,
        },
        "eip712": typed_data(domain=domain),
        "result": {
            "choices": [{"number": c.number, "choice": c.name, "weight": str(c.weight)} for c in published.choices],
            "total_weight": str(published.total),
            "voters": published.voters,
            "quorum_reached": published.quorum_reached,
            "outcome": tallies.outcome(proposal.voting_type, published.scores, published.total, proposal.quorum_amount)[0],
        },
        "votes": [
            {
                "voter": v.voter,
                "choice": v.choice,
                "reason": v.reason,
                "timestamp": v.timestamp,
                "signature": v.signature,
                "receipt": v.receipt,
                "weight": v.weight,
            }
            for v in vote_list(proposal=proposal).order_by("id").iterator(chunk_size=5000)
        ],
    }


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


class RecountFileError(ValueError):
    pass


@contextmanager
def _pointed_at(rpc_url: str | None, chain_id: int):
    """Read the chain through `rpc_url` (the home chain for the duration) when given."""
    if not rpc_url:
        yield
        return
    from django.test import override_settings

    from django.conf import settings

    portal = dict(settings.PORTAL)
    portal.update({"CHAIN_RPC_URL": rpc_url, "CHAIN_ID": chain_id})
    with override_settings(PORTAL=portal):
        yield


def recount(
    export: dict, *, rpc_url: str | None = None, progress: Callable[[str, int, int], None] | None = None
) -> RecountReport:
    """Recount a proposal from its recount file alone. `progress(stage, done, total)` is called as work proceeds."""
    from governance.strategies import Strategy, voting_weights

    if export.get("format") != FORMAT:
        raise RecountFileError(f"This is not a recount file of format {FORMAT}.")
    try:
        proposal = export["proposal"]
        domain = export["eip712"]["domain"]
        votes = export["votes"]
        published = export["result"]
        voting_type = proposal["voting_type"]
        choices = proposal["choices"]
        strategies = [Strategy.from_json(s) for s in proposal["strategies"]]
        snapshot_block = int(proposal["snapshot_block"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RecountFileError(f"The recount file is incomplete or malformed: {exc}.") from None
    snapshot_time = None
    if proposal.get("snapshot_time"):
        from datetime import datetime

        snapshot_time = datetime.fromisoformat(proposal["snapshot_time"])
    report = RecountReport(votes=len(votes))
    tick = progress or (lambda stage, done, total: None)
    n = len(choices)
    ballots: list[tuple[str, object]] = []
    with _pointed_at(rpc_url, int(domain["chainId"])):
        seen: set[str] = set()
        for i, raw in enumerate(votes, start=1):
            where = f"vote {i} ({raw.get('voter', '?')})"
            try:
                ballot = SignedBallot.from_fields(
                    voter=raw["voter"], proposal=proposal["number"], choice=raw["choice"], reason=raw.get("reason", ""),
                    timestamp=raw["timestamp"], signature=raw["signature"],
                )
                receipt = ballot.verify(domain=domain)
            except (BadSignature, KeyError) as exc:
                report.differences.append(f"{where}: the signature does not verify ({exc}).")
                tick("signatures", i, len(votes))
                continue
            if receipt != raw.get("receipt"):
                report.differences.append(f"{where}: the receipt is {raw.get('receipt')}, the signed hash is {receipt}.")
            if ballot.voter.lower() in seen:
                report.differences.append(f"{where}: a second vote by the same voter.")
            seen.add(ballot.voter.lower())
            try:
                parsed = tallies.parse_choice(voting_type, n, raw["choice"])
            except tallies.InvalidChoice as exc:
                report.differences.append(f"{where}: the choice is invalid ({exc}).")
                continue
            ballots.append((ballot.voter, parsed))
            tick("signatures", i, len(votes))
        weights: dict[str, Decimal | None] = {}
        addresses = [voter for voter, _ in ballots]
        for start in range(0, len(addresses), WEIGHT_CHUNK):
            chunk = addresses[start : start + WEIGHT_CHUNK]
            weights.update(
                voting_weights(
                    strategies=strategies, snapshot_block=snapshot_block, snapshot_time=snapshot_time, addresses=chunk
                )
            )
            tick("weights", min(start + WEIGHT_CHUNK, len(addresses)), len(addresses))
    stored = {raw.get("voter", "").lower(): raw.get("weight") for raw in votes}
    counted = []
    for voter, parsed in ballots:
        weight = weights.get(voter)
        if weight is None:
            weight = next((w for a, w in weights.items() if a.lower() == voter.lower()), None)
        if weight is None:
            report.differences.append(f"{voter}: the weight could not be read from the chain.")
            continue
        if Decimal(stored.get(voter.lower()) or "0") != weight:
            report.differences.append(f"{voter}: the portal counted weight {stored.get(voter.lower())}, the chain says {weight}.")
        if weight > 0:
            counted.append((parsed, weight))
        else:
            report.differences.append(f"{voter}: no voting weight at block {snapshot_block}, yet the vote was counted.")
    result = tallies.tally(voting_type, choices, counted)
    report.scores, report.total = result.scores, result.total
    report.outcome = tallies.outcome(voting_type, result.scores, result.total, Decimal(proposal.get("quorum") or "0"))[0]
    for i, name in enumerate(choices):
        published_weight = Decimal(published["choices"][i]["weight"]) if i < len(published.get("choices", [])) else None
        if published_weight != result.scores[i]:
            report.differences.append(
                f"Choice {i + 1} “{name}”: published {published_weight}, recounted {result.scores[i]}."
            )
    if Decimal(published.get("total_weight", "0")) != result.total:
        report.differences.append(f"Total weight: published {published.get('total_weight')}, recounted {result.total}.")
    if int(published.get("voters", -1)) != result.voters:
        report.differences.append(f"Voters: published {published.get('voters')}, recounted {result.voters}.")
    if published.get("outcome") != report.outcome:
        report.differences.append(f"Outcome: published {published.get('outcome')}, recounted {report.outcome}.")
    return report
