"""Lending endpoints of `/api/v1/` (CONTRACT: positions and risk). Thin: parse, call one selector, answer."""

from __future__ import annotations

from ninja import Router

from portal.api_types import Address, BlockNumber, answers, one_of, text

from . import impact, risk, selectors
from .schemas import ImpactOut, PositionOut, RiskOut

router = Router()
# What-if parameters, checked by impact.risk_change_parse with its sentences; documented here. asset, parameter and
# value are required (a request without one is a 400 sentence naming it).
Collateral = text(min_length=1, description="A collateral of the market: its symbol (WETH) or address")
Parameter = one_of(impact.PARAMETERS, description="The risk parameter to change")
Value = text(min_length=1, pattern=r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$",
             description="liquidation_threshold, ltv: a fraction (0.8 = 80 %); price_shock: a relative change (-0.3)")
Market = text(description="The pool's address or `default`; empty for the one market the portal reads")


@router.get(
    "/positions/{address}", summary="A wallet's loan in the lending market at the head block",
    response=answers({200: PositionOut}, 400),
)
def position(request, address: Address):
    """Collateral, debt and borrowing power left (decimal strings in the pool's base currency), the liquidation
    threshold and LTV (fractions), the health factor (null without debt) and, per collateral asset, the price at
    which the position becomes liquidatable. 400 for a malformed address, 503 when the chain or pool cannot be read."""
    return selectors.loan_read(address=address).as_json()


@router.get("/risk", summary="The lending market's risk now", response=answers({200: RiskOut}))
def market_risk(request):
    """Positions at risk (health factor < 1.1) and their debt, liquidations in the last 24 h, bad debt (debt
    without collateral), utilisation per market, oracle freshness and deviation from the reference feed."""
    return risk.risk_read().as_json()


@router.get(
    "/risk/impact", summary="What a risk-parameter change would liquidate",
    response=answers({200: ImpactOut}, 400),
)
def risk_impact(request, asset: Collateral, parameter: Parameter, value: Value, block: BlockNumber = None,
                market: Market = ""):
    """A what-if for one collateral: `parameter` = liquidation_threshold or ltv (a fraction, 0.8 = 80 %) or
    price_shock (a relative change, -0.3 = a 30 % fall). Answers how many known positions, and how much debt, are
    liquidatable before and after, the newly liquidatable wallets, and the health-factor histogram before and after —
    at `block` (e.g. a proposal's snapshot) or the head. Every bad input is a 400 sentence."""
    return impact.preview_read(asset=asset, parameter=parameter, value=value, block=block, market=market).as_json()
