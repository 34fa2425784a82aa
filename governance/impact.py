"""Reads for a risk proposal's page: what its change would do to the market's loans, from the on-chain positions at
the snapshot block and at the head (portal.lending.impact), and the market's collaterals for the draft form.

Each read is its own answer: a node that cannot serve the snapshot block (no archive node) or is down costs that
column a sentence, never the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from governance.models import Proposal
from governance.selectors import risk_change_get
from governance.services.risk import risk_change_of
from portal.errors import Refusal, Unavailable
from portal.lending import reader
from portal.lending.impact import Impact, RiskChange, percent_text, preview_read


@dataclass(frozen=True)
class ImpactColumn:
    """The preview at one block, or the sentence saying why it cannot be shown."""

    title: str
    block: int | None
    impact: Impact | None = None
    problem: str = ""

    def chart(self) -> dict | None:
        if self.impact is None:
            return None
        return {"labels": self.impact.labels, "before": self.impact.histogram_before,
                "after": self.impact.histogram_after}


@dataclass(frozen=True)
class ProposalImpact:
    change: RiskChange
    columns: tuple[ImpactColumn, ...]

    def charts(self) -> list[dict]:
        return [{"title": c.title, **c.chart()} for c in self.columns if c.chart()]


def _column(title: str, change: RiskChange, block: int | None) -> ImpactColumn:
    try:
        impact = preview_read(asset=change.asset, parameter=change.parameter, value=str(change.new), block=block,
                              market=change.market)
    except (Refusal, Unavailable) as exc:  # Unavailable covers the chain and a misconfigured pool
        return ImpactColumn(title, block, problem=exc.message)
    return ImpactColumn(title, impact.block, impact)


def proposal_impact(*, proposal: Proposal) -> ProposalImpact | None:
    """The change's impact at the snapshot block (once voting has opened) and at the head; None without a change."""
    row = risk_change_get(proposal=proposal)
    if row is None:
        return None
    change = risk_change_of(row)
    columns = []
    if proposal.snapshot_block is not None:
        columns.append(_column(f"When voting opened (block {proposal.snapshot_block})", change, proposal.snapshot_block))
    columns.append(_column("Now", change, None))
    return ProposalImpact(change, tuple(columns))


def market_choices() -> dict:
    """The pool and its collaterals with today's liquidation threshold and LTV, for the draft form; empty when the
    market cannot be read (the form still works, the service checks the change when it is saved)."""
    try:
        pool = reader.require_readable()
        market = reader.market(pool=pool, block=reader.head_block())
    except Unavailable:
        return {"market_pool": "", "collaterals": []}
    return {
        "market_pool": pool,
        "collaterals": [
            {"symbol": a.symbol, "threshold_percent": percent_text(Decimal(a.threshold_bps) / reader.BPS),
             "ltv_percent": percent_text(Decimal(a.ltv_bps) / reader.BPS)}
            for a in market.collaterals
        ],
    }
