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
from hashlib import sha256

from django.core.cache import cache

from governance.chain import chain
from portal.errors import Refusal

from . import reader
from .models import Position
from .reader import BPS, Asset, Market
from .selectors import decimal_text

PARAMETERS = ("liquidation_threshold", "ltv", "price_shock")
IMPACT_CACHE_SECONDS = 300
# Upper edges of the health-factor histogram; the last bucket is open.
BUCKETS = (Decimal(1), Decimal("1.1"), Decimal("1.25"), Decimal("1.5"), Decimal(2), Decimal(3))


PARAMETER_NAMES = {"liquidation_threshold": "liquidation threshold", "ltv": "loan-to-value (LTV)",
                   "price_shock": "price shock"}


@dataclass(frozen=True)
class RiskChange:
    market: str  # the pool's checksummed address
    asset: str  # checksummed collateral address
    symbol: str
    parameter: str
    old: Decimal
    new: Decimal  # a fraction (0.8 = 80 %); for a price shock the relative change (-0.3 = -30 %)

    def as_json(self) -> dict:
        return {"market": self.market, "asset": self.asset, "symbol": self.symbol, "parameter": self.parameter,
                "old": decimal_text(self.old), "new": decimal_text(self.new)}

    @property
    def is_scenario(self) -> bool:
        """A price shock changes no parameter: it asks what a fall would do, and nothing is set on-chain."""
        return self.parameter == "price_shock"

    @property
    def new_bps(self) -> int:
        return int(self.new * BPS)

    def sentence(self) -> str:
        """“WETH liquidation threshold: 82.5 % → 78 %”, “WETH price shock: -30 %”."""
        name = PARAMETER_NAMES[self.parameter]
        if self.is_scenario:
            return f"{self.symbol} {name}: {percent_text(self.new, signed=True)}"
        return f"{self.symbol} {name}: {percent_text(self.old)} → {percent_text(self.new)}"


def percent_text(fraction: Decimal, *, signed: bool = False) -> str:
    """0.825 → “82.5 %”; with `signed`, -0.3 → “-30 %” and 0.1 → “+10 %”."""
    text = decimal_text(fraction * 100)
    return f"{'+' if signed and fraction > 0 else ''}{text} %"


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
    threshold under the LTV, above 100 % or leaving no room for the liquidation bonus (the pool's own rule), a value
    finer than the pool's basis points, and a price shock of -100 % or more."""
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
            raise Refusal(f"A price shock of {percent_text(new)} would leave no price at all; give a fall smaller than "
                          "100 % (-0.3 is a 30 % fall).")
        if new > 100:
            raise Refusal(f"A price shock of {percent_text(new, signed=True)} is not a scenario worth previewing; "
                          "give a change up to +10,000 %.")
        return RiskChange(market.pool, found.address, found.symbol, parameter, Decimal(0), new)
    name = {"ltv": "An LTV", "liquidation_threshold": "A liquidation threshold"}[parameter]
    if new > 1:
        raise Refusal(f"{name} cannot be above 100 % ({percent_text(new)} asked); give a fraction from 0 to 1 "
                      "(0.8 = 80 %).")
    if new < 0:
        raise Refusal(f"{name} cannot be negative.")
    if new * BPS != int(new * BPS):
        raise Refusal(f"The pool keeps {name[2:].strip()}s in basis points (0.01 %); {percent_text(new)} is finer "
                      "than that.")
    if parameter == "ltv" and new > threshold:
        raise Refusal(f"An LTV of {percent_text(new)} would be above {found.symbol}'s liquidation threshold of "
                      f"{percent_text(threshold)}: a new loan could be liquidated at once.")
    if parameter == "liquidation_threshold":
        if new < ltv:
            raise Refusal(f"A liquidation threshold of {percent_text(new)} would be below {found.symbol}'s LTV of "
                          f"{percent_text(ltv)}: a new loan could be liquidated at once.")
        if new * (BPS + found.bonus_bps) > BPS:
            bonus = Decimal(found.bonus_bps) / BPS
            raise Refusal(f"A liquidation threshold of {percent_text(new)} leaves no room for {found.symbol}'s "
                          f"liquidation bonus of {percent_text(bonus)} (threshold × (1 + bonus) must stay at most "
                          "100 %), so the pool would refuse it.")
    return RiskChange(market.pool, found.address, found.symbol, parameter,
                      ltv if parameter == "ltv" else threshold, new)


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
    debt_newly_liquidatable: Decimal = Decimal(0)

    @property
    def labels(self) -> list[str]:
        return [f"< {BUCKETS[0]}"] + [f"{a}–{b}" for a, b in zip(BUCKETS, BUCKETS[1:], strict=False)] + [
            f"≥ {BUCKETS[-1]}"]

    def as_json(self) -> dict:
        return {
            "block": self.block, "change": self.change.as_json(), "positions": self.positions,
            "liquidatable_before": self.liquidatable_before, "liquidatable_after": self.liquidatable_after,
            "debt_liquidatable_before": decimal_text(self.debt_liquidatable_before),
            "debt_liquidatable_after": decimal_text(self.debt_liquidatable_after),
            "debt_newly_liquidatable": decimal_text(self.debt_newly_liquidatable),
            "newly_liquidatable": self.newly_liquidatable,
            "health_factor_buckets": self.labels,
            "histogram_before": self.histogram_before, "histogram_after": self.histogram_after,
        }


def _bucket(health_wad: int) -> int:
    health = Decimal(health_wad) / reader.WAD
    return next((at for at, edge in enumerate(BUCKETS) if health < edge), len(BUCKETS))


def _changed_assets(change: RiskChange, market: Market) -> list[tuple[str, int, int, int]]:
    """(address, decimals, price in base units, threshold bps) per collateral, as the pool will see them after the
    change: a shocked price is rounded down to the base currency's 8 decimals, as the feed would report it."""
    rows = []
    for asset in market.collaterals:
        price, threshold = asset.price_base, asset.threshold_bps
        if asset.address == change.asset:
            if change.parameter == "liquidation_threshold":
                threshold = change.new_bps
            elif change.parameter == "price_shock":
                price = int(Decimal(price) * (1 + change.new))
        rows.append((asset.address, asset.decimals, price, threshold))
    return rows


def _debt_base(debt: int, borrow: Asset) -> int:
    """The pool's debt in the base currency: rounded up, so a wei of debt never slips past the limits."""
    return -(-debt * borrow.price_base // 10**borrow.decimals)


def impact_preview(*, change: RiskChange, market: Market, addresses: Sequence[str]) -> Impact:
    """Apply `change` to the positions of `addresses` at the market's block, from one batch of the pool's stored
    debts and collateral. The health factors before and after are computed with the pool's own integer arithmetic
    (collateral value rounded down, debt rounded up, health factor 1e18), so both equal what getUserAccountData
    answers — before, and once the change is made on-chain. Raises PoolMisconfigured for a pool without those views.
    """
    borrow = market.asset(market.borrow_asset) if market.borrow_asset else None
    if borrow is None or not borrow.price_base:
        raise reader.PoolMisconfigured(f"The pool at {market.pool} gives no price for the asset it lends, so a change "
                                       "cannot be previewed.")
    held = reader.holdings(addresses, market=market)
    before_hist, after_hist = [0] * (len(BUCKETS) + 1), [0] * (len(BUCKETS) + 1)
    result = Impact(market.block, change, 0, 0, 0, Decimal(0), Decimal(0), [], before_hist, after_hist)
    now = [(a.address, a.decimals, a.price_base, a.threshold_bps) for a in market.collaterals]
    after = _changed_assets(change, market)
    one, bps = 10**18, int(BPS)
    for address, holding in zip(addresses, held, strict=True):
        if holding is None or not holding.debt:
            continue
        debt_base = _debt_base(holding.debt, borrow)
        weighted_before = weighted_after = 0
        for (asset, decimals, price, threshold), (_a, _d, price_after, threshold_after) in zip(now, after, strict=True):
            amount = holding.collateral.get(asset, 0)
            if amount:
                weighted_before += amount * price // 10**decimals * threshold
                weighted_after += amount * price_after // 10**decimals * threshold_after
        hf_before = weighted_before * one // (bps * debt_base)
        hf_after = weighted_after * one // (bps * debt_base)
        result.positions += 1
        before_hist[_bucket(hf_before)] += 1
        after_hist[_bucket(hf_after)] += 1
        debt_usd = Decimal(debt_base).scaleb(-reader.BASE_DECIMALS)
        if hf_before < one:
            result.liquidatable_before += 1
            result.debt_liquidatable_before += debt_usd
        if hf_after < one:
            result.liquidatable_after += 1
            result.debt_liquidatable_after += debt_usd
            if hf_before >= one:
                result.newly_liquidatable.append(address)
                result.debt_newly_liquidatable += debt_usd
    return result


def preview_read(*, asset: str, parameter: str, value, block: int | None = None, market: str = "") -> Impact:
    """Parse the change against the market at `block` (default: the head) and preview it over every known position
    (watched wallets and the pool's borrowers). Raises Refusal for bad input, Unavailable when nothing can be read.

    A block's state never changes, so a preview is cached per block hash, change and set of known positions."""
    pool = reader.require_readable()
    head = reader.head_block()
    if block is not None and not 0 <= block <= head:
        raise Refusal(f"Block {block} is not on this chain yet (the head is {head}).")
    at_block = head if block is None else block
    addresses = list(Position.objects.order_by("address").values_list("address", flat=True))
    block_hash = chain().get_block(at_block)["hash"].to_0x_hex()  # a reorganised block is another state
    key = "lending:impact:" + sha256(
        f"{pool}|{block_hash}|{str(asset).lower()}|{parameter}|{value}|{market}|{','.join(addresses)}"
        .encode()
    ).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached
    at = reader.market(pool=pool, block=at_block)
    change = risk_change_parse(market=at, market_name=market, asset=asset, parameter=parameter, value=value)
    impact = impact_preview(change=change, market=at, addresses=addresses)
    cache.set(key, impact, IMPACT_CACHE_SECONDS)
    return impact
