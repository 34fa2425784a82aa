"""The shapes of `/api/v1/positions/{address}` and `/api/v1/risk` (CONTRACT: JSON API), in the order `as_json`
writes them. Amounts and fractions are decimal strings; `None` where the chain gave nothing to compute from."""

from __future__ import annotations

from ninja import Schema

Decimal = str  # plain digits with an optional fraction, never exponent notation


class LiquidationPriceOut(Schema):
    asset: str
    symbol: str
    amount: Decimal
    price: Decimal | None
    liquidation_price: Decimal | None


class PositionOut(Schema):
    address: str
    block: int
    collateral: Decimal
    debt: Decimal
    available_borrows: Decimal
    liquidation_threshold: Decimal
    ltv: Decimal
    health_factor: Decimal | None
    liquidation_prices: list[LiquidationPriceOut]


class OracleReadingOut(Schema):
    symbol: str
    feed: str
    price: Decimal | None
    updated_at: int | None
    age_seconds: int | None
    reference_price: Decimal | None
    deviation: Decimal | None


class RiskOut(Schema):
    block: int
    positions: int
    positions_at_risk: int
    debt_at_risk: Decimal
    liquidations_24h: int
    liquidated_debt_24h: Decimal
    bad_debt: Decimal
    unreadable_positions: int
    utilisation: dict[str, Decimal]
    oracle: list[OracleReadingOut]


class RiskChangeOut(Schema):
    market: str
    asset: str
    symbol: str
    parameter: str
    old: Decimal
    new: Decimal


class ImpactOut(Schema):
    block: int
    change: RiskChangeOut
    positions: int
    liquidatable_before: int
    liquidatable_after: int
    debt_liquidatable_before: Decimal
    debt_liquidatable_after: Decimal
    debt_newly_liquidatable: Decimal
    newly_liquidatable: list[str]
    health_factor_buckets: list[str]
    histogram_before: list[int]
    histogram_after: list[int]
