"""The structured change of a risk proposal: checked against the lending market when a draft is saved, and checked
on-chain once the proposal is executed (the timeline says whether the parameter now has the voted value).

The market's rules and their sentences are portal.lending.impact's (`risk_change_parse`), so the API's what-if and a
proposal refuse the same things the same way.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from governance.chain import ChainUnavailable
from governance.exports import export_store_later
from governance.models import Category, Proposal, ProposalEvent, RiskParameterChange
from governance.services.timeline import timeline_record
from portal.errors import Refusal
from portal.lending import reader
from portal.lending.impact import RiskChange, percent_text, risk_change_parse
from portal.lending.selectors import decimal_text

log = logging.getLogger(__name__)
NOT_RISK = ("Only a proposal in the “Risk parameters” category can carry a parameter change; choose that category "
            "or leave the change empty.")


def risk_change_clean(*, category: str, change: dict | None) -> RiskChange | None:
    """`change` = {"market" (optional), "asset", "parameter", "value" (a fraction)} checked against the market at
    the head, or None for a proposal without one. Refuses a change outside the risk category and every bad value
    (an unknown market or asset, an LTV above the threshold or 100 %, a price shock of -100 % or more …) with a
    sentence; raises Unavailable when the market cannot be read."""
    if not change or not any(str(change.get(k) or "").strip() for k in ("asset", "parameter", "value")):
        return None
    if category != Category.RISK:
        raise Refusal(NOT_RISK)
    parameter = str(change.get("parameter") or "").strip()
    if not parameter:
        raise Refusal("Choose which parameter the change sets: liquidation threshold, LTV or a price shock.")
    if not str(change.get("asset") or "").strip():
        raise Refusal("Choose the collateral asset the change is for.")
    if str(change.get("value") or "").strip() == "":
        raise Refusal("Give the new value of the parameter.")
    pool = reader.require_readable()
    market = reader.market(pool=pool, block=reader.head_block())
    return risk_change_parse(market=market, market_name=str(change.get("market") or ""),
                             asset=str(change.get("asset")).strip(), parameter=parameter, value=change.get("value"))


def risk_change_store(*, proposal: Proposal, change: RiskChange | None) -> None:
    """Save (or, with None, remove) the proposal's change; inside the caller's transaction."""
    if change is None:
        RiskParameterChange.objects.filter(proposal=proposal).delete()
        return
    row = RiskParameterChange.objects.filter(proposal=proposal).first() or RiskParameterChange(proposal=proposal)
    row.market, row.asset, row.symbol, row.parameter = change.market, change.asset, change.symbol, change.parameter
    row.old_value, row.new_value = decimal_text(change.old), decimal_text(change.new)
    row.full_clean(exclude=["proposal"])
    row.save()


def risk_change_of(row: RiskParameterChange) -> RiskChange:
    return RiskChange(market=row.market, asset=row.asset, symbol=row.symbol, parameter=row.parameter,
                      old=Decimal(row.old_value), new=Decimal(row.new_value))


def _onchain_value(row: RiskParameterChange) -> tuple[int, Decimal | None]:
    """(head block, the parameter's value there as a fraction; None when the pool no longer lists the asset)."""
    block = reader.head_block()
    market = reader.market(pool=row.market, block=block)
    asset = market.asset(row.asset)
    if asset is None:
        return block, None
    bps = asset.threshold_bps if row.parameter == RiskParameterChange.Parameter.LIQUIDATION_THRESHOLD else asset.ltv_bps
    return block, Decimal(bps) / reader.BPS


def risk_change_check(*, proposal: Proposal) -> bool | None:
    """After execution: read the parameter on-chain and put on the timeline whether it has the voted value (again
    only when the answer changes). Returns True/False, or None for a price-shock scenario (nothing to check) or when
    the node cannot be read now (the sampler asks again on its next tick)."""
    row = RiskParameterChange.objects.filter(proposal=proposal).first()
    if row is None or proposal.executed_at is None:
        return None
    change = risk_change_of(row)
    if change.is_scenario:
        if row.checked_at is None:
            with transaction.atomic():
                row.checked_at = timezone.now()
                row.save(update_fields=["checked_at"])
                timeline_record(proposal, ProposalEvent.Kind.CHECKED, note=(
                    f"{change.sentence()} is a scenario, not a parameter: there is nothing to check on-chain."))
        return None
    try:
        block, found = _onchain_value(row)
    except (ChainUnavailable, reader.PoolMisconfigured) as exc:
        log.info("risk change of %s not checked: %s", proposal.label, exc.message)
        return None
    matches = found is not None and found == change.new
    if found is None:
        note = f"At block {block} the pool no longer lists {change.symbol}, so its parameter cannot be checked."
    elif matches:
        note = (f"At block {block} the pool's {change.symbol} {_name(change)} is {percent_text(found)}: the voted "
                "value.")
    else:
        note = (f"At block {block} the pool's {change.symbol} {_name(change)} is {percent_text(found)}, not the voted "
                f"{percent_text(change.new)}: the change is not on-chain.")
    with transaction.atomic():
        locked = RiskParameterChange.objects.select_for_update().get(pk=row.pk)
        changed = locked.onchain_matches is not matches or locked.checked_at is None
        locked.checked_at, locked.checked_block = timezone.now(), block
        locked.onchain_value = decimal_text(found) if found is not None else ""
        locked.onchain_matches = matches
        locked.save(update_fields=["checked_at", "checked_block", "onchain_value", "onchain_matches"])
        if changed:
            timeline_record(proposal, ProposalEvent.Kind.CHECKED, note=note)
            # The file's risk part names the block checked. While the change is not on-chain the sampler checks on
            # every tick, each at a new block: the file streams meanwhile rather than being stored once a second.
            export_store_later(proposal=proposal)
    return matches


def _name(change: RiskChange) -> str:
    return {"liquidation_threshold": "liquidation threshold", "ltv": "LTV"}[change.parameter]


def risk_changes_check_due() -> int:
    """Check every executed proposal whose change is not confirmed on-chain yet (the health sampler calls it each
    tick). Returns how many were confirmed now."""
    due = RiskParameterChange.objects.filter(proposal__executed_at__isnull=False).exclude(onchain_matches=True)
    due = due.exclude(parameter=RiskParameterChange.Parameter.PRICE_SHOCK, checked_at__isnull=False)
    return sum(bool(risk_change_check(proposal=row.proposal)) for row in due.select_related("proposal"))
