"""Lending endpoints of `/api/v1/` (CONTRACT: positions and risk). Thin: parse, call one selector, answer."""

from __future__ import annotations

from ninja import Router

from . import risk, selectors

router = Router()


@router.get("/positions/{address}", summary="A wallet's loan in the lending market at the head block")
def position(request, address: str):
    """Collateral, debt and borrowing power left (decimal strings in the pool's base currency), the liquidation
    threshold and LTV (fractions), the health factor (null without debt) and, per collateral asset, the price at
    which the position becomes liquidatable. 400 for a malformed address, 503 when the chain or pool cannot be read."""
    return selectors.loan_read(address=address).as_json()


@router.get("/risk", summary="The lending market's risk now")
def market_risk(request):
    """Positions at risk (health factor < 1.1) and their debt, liquidations in the last 24 h, bad debt (debt
    without collateral), utilisation per market, oracle freshness and deviation from the reference feed."""
    return risk.risk_read().as_json()
