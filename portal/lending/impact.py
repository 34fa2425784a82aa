"""What a risk-parameter change would do: for every known position, the health factor before and after a new
liquidation threshold, a new LTV, or a price shock on one collateral — how many positions and how much debt would
become liquidatable, and the health-factor distribution before and after.

A change is parsed once (`risk_change_parse`, a sentence for every bad input) and applied to readings taken at one
block (`impact_preview`), so the same numbers can be shown at a proposal's snapshot block and at the head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from portal.errors import Refusal

from . import reader
from .models import Position
from .reader import BPS, Market
from .selectors import decimal_text

PARAMETERS = ("liquidation_threshold", "ltv", "price_shock")
# Upper edges of the health-factor histogram; the last bucket is open.
BUCKETS = (Decimal(1), Decimal("1.1"), Decimal("1.25"), Decimal("1.5"), Decimal(2), Decimal(3))


@dataclass(frozen=True)
class RiskChange:
    asset: str  # checksummed collateral address
    symbol: str
    parameter: str
    old: Decimal
    new: Decimal  # a fraction (0.8 = 80 %); for a price shock the relative change (-0.3 = -30 %)

    def as_json(self) -> dict:
        return {"asset": self.asset, "symbol": self.symbol, "parameter": self.parameter,
                "old": decimal_text(self.old), "new": decimal_text(self.new)}


def _number(text, *, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        raise Refusal(f"The {what} “{str(text)[:20]}” is not a number.")
    return value


def risk_change_parse(*, market: Market, market_name: str = "", asset: str, parameter: str, value) -> RiskChange:
    """A change of one collateral's parameter, checked against the market as it is. Refuses an unknown market or
    asset, an unknown parameter, a number that is not one, an LTV above the liquidation threshold or above 100 %, a
    threshold under the LTV or above 100 %, and a price shock of -100 % or more."""
    if market_name and market_name.lower() not in (market.pool.lower(), "default"):
        raise Refusal(f"There is no lending market “{market_name[:60]}”; this portal reads the pool at {market.pool}.")
    found = market.asset(asset or "")
    if found is None or not found.collateral:
        listed = ", ".join(a.symbol for a in market.collaterals) or "none"
        raise Refusal(f"“{str(asset)[:40]}” is not a collateral asset of this lending market (it lists {listed}).")
    if parameter not in PARAMETERS:
        raise Refusal(f"“{str(parameter)[:40]}” is not a risk parameter; use one of {', '.join(PARAMETERS)}.")
    new = _number(value, what="new value" if parameter != "price_shock" else "price shock")
    ltv, threshold = Decimal(found.ltv_bps) / BPS, Decimal(found.threshold_bps) / BPS
    if parameter == "price_shock":
        if new <= -1:
            raise Refusal("A price shock of -100 % or more would leave no price at all; give a change above -1 "
                          "(-0.3 is a 30 % fall).")
        return RiskChange(found.address, found.symbol, parameter, Decimal(0), new)
    name = {"ltv": "An LTV", "liquidation_threshold": "A liquidation threshold"}[parameter]
    if new > 1:
        raise Refusal(f"{name} is a fraction from 0 to 1 (0.8 = 80 %); {new} is above 100 %.")
    if new < 0:
        raise Refusal(f"{name} cannot be negative.")
    if parameter == "ltv" and new > threshold:
        raise Refusal(f"An LTV of {new} would be above {found.symbol}'s liquidation threshold of {threshold}: a new "
                      "loan could be liquidated at once.")
    if parameter == "liquidation_threshold" and new < ltv:
        raise Refusal(f"A liquidation threshold of {new} would be below {found.symbol}'s LTV of {ltv}: a new loan "
                      "could be liquidated at once.")
    return RiskChange(found.address, found.symbol, parameter, ltv if parameter == "ltv" else threshold, new)


@dataclass
class Impact:
    block: int
    change: RiskChange
    positions: int
    liquidatable_before: int
    liquidatable_after: int
    debt_liquidatable_before: Decimal
    debt_liquidatable_after: Decimal
    newly_liquidatable: list[str]
    histogram_before: list[int]
    histogram_after: list[int]

    def as_json(self) -> dict:
        labels = [f"< {BUCKETS[0]}"] + [f"{a}–{b}" for a, b in zip(BUCKETS, BUCKETS[1:], strict=False)] + [
            f"≥ {BUCKETS[-1]}"]
        return {
            "block": self.block, "change": self.change.as_json(), "positions": self.positions,
            "liquidatable_before": self.liquidatable_before, "liquidatable_after": self.liquidatable_after,
            "debt_liquidatable_before": decimal_text(self.debt_liquidatable_before),
            "debt_liquidatable_after": decimal_text(self.debt_liquidatable_after),
            "newly_liquidatable": self.newly_liquidatable,
            "health_factor_buckets": labels,
            "histogram_before": self.histogram_before, "histogram_after": self.histogram_after,
        }


def _bucket(health: Decimal) -> int:
    return next((at for at, edge in enumerate(BUCKETS) if health < edge), len(BUCKETS))


def impact_preview(*, change: RiskChange, market: Market, addresses: Sequence[str]) -> Impact:
    """Apply `change` to the positions of `addresses` at the market's block (one batch of account data, one of
    collateral balances). Health factors are recomputed from balances, prices and thresholds, the pool's own rule."""
    data = reader.account_data(addresses, pool=market.pool, block=market.block)
    borrowing = [(a, d) for a, d in zip(addresses, data, strict=True) if d is not None and d.debt_base]
    balances = reader.collateral_balances([a for a, _ in borrowing], market=market)
    before_hist, after_hist = [0] * (len(BUCKETS) + 1), [0] * (len(BUCKETS) + 1)
    result = Impact(market.block, change, len(borrowing), 0, 0, Decimal(0), Decimal(0), [], before_hist, after_hist)
    collaterals = market.collaterals
    for (address, account), held in zip(borrowing, balances, strict=True):
        before = after = Decimal(0)
        for asset in collaterals:
            amount = held.get(asset.address, 0)
            if not amount:
                continue
            value = Decimal(amount) * asset.price_base / 10**asset.decimals
            threshold = Decimal(asset.threshold_bps)
            before += value * threshold
            if asset.address == change.asset:
                if change.parameter == "liquidation_threshold":
                    threshold = change.new * BPS
                elif change.parameter == "price_shock":
                    value *= 1 + change.new
            after += value * threshold
        debt = Decimal(account.debt_base) * BPS
        hf_before, hf_after = before / debt, after / debt
        before_hist[_bucket(hf_before)] += 1
        after_hist[_bucket(hf_after)] += 1
        debt_usd = Decimal(account.debt_base).scaleb(-reader.BASE_DECIMALS)
        if hf_before < 1:
            result.liquidatable_before += 1
            result.debt_liquidatable_before += debt_usd
        if hf_after < 1:
            result.liquidatable_after += 1
            result.debt_liquidatable_after += debt_usd
            if hf_before >= 1:
                result.newly_liquidatable.append(address)
    return result


def preview_read(*, asset: str, parameter: str, value, block: int | None = None, market: str = "") -> Impact:
    """Parse the change against the market at `block` (default: the head) and preview it over every known position
    (watched wallets and the pool's borrowers). Raises Refusal for bad input, Unavailable when nothing can be read."""
    pool = reader.require_readable()
    head = reader.head_block()
    if block is not None and not 0 <= block <= head:
        raise Refusal(f"Block {block} is not on this chain yet (the head is {head}).")
    at = reader.market(pool=pool, block=head if block is None else block)
    change = risk_change_parse(market=at, market_name=market, asset=asset, parameter=parameter, value=value)
    return impact_preview(change=change, market=at, addresses=list(Position.objects.values_list("address", flat=True)))
