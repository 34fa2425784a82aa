"""Lending endpoints of `/api/v1/` (CONTRACT: positions and risk). Thin: parse, call one selector, answer."""

from __future__ import annotations

from ninja import Router

from portal.errors import Error

from . import impact, risk, selectors
from .schemas import ImpactOut, PositionOut, RiskOut

router = Router()


@router.get(
    "/positions/{address}", summary="A wallet's loan in the lending market at the head block",
    response={200: PositionOut, 400: Error, 503: Error},
)
def position(request, address: str):
    """Collateral, debt and borrowing power left (decimal strings in the pool's base currency), the liquidation
    threshold and LTV (fractions), the health factor (null without debt) and, per collateral asset, the price at
    which the position becomes liquidatable. 400 for a malformed address, 503 when the chain or pool cannot be read."""
    return selectors.loan_read(address=address).as_json()


@router.get("/risk", summary="The lending market's risk now", response={200: RiskOut, 503: Error})
def market_risk(request):
    """Positions at risk (health factor < 1.1) and their debt, liquidations in the last 24 h, bad debt (debt
    without collateral), utilisation per market, oracle freshness and deviation from the reference feed."""
    return risk.risk_read().as_json()


@router.get(
    "/risk/impact", summary="What a risk-parameter change would liquidate",
    response={200: ImpactOut, 400: Error, 422: Error, 503: Error},
)
def risk_impact(request, asset: str = "", parameter: str = "", value: str = "", block: int | None = None,
                market: str = ""):
    """A what-if for one collateral: `parameter` = liquidation_threshold or ltv (a fraction, 0.8 = 80 %) or
    price_shock (a relative change, -0.3 = a 30 % fall). Answers how many known positions, and how much debt, are
    liquidatable before and after, the newly liquidatable wallets, and the health-factor histogram before and after —
    at `block` (e.g. a proposal's snapshot) or the head. Every bad input is a 400 sentence."""
    return impact.preview_read(asset=asset, parameter=parameter, value=value, block=block, market=market).as_json()
