"""`{% your_loan user %}`: the signed-in user's loan card (home and account pages), and its number filters."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from django import template
from django.utils.html import format_html

from portal.errors import Unavailable

from ..models import Band
from ..selectors import band_of, loans_read, position_settings, wallets_of

register = template.Library()
BADGES = {
    Band.SAFE: ("ok", "safe"), Band.CLOSE: ("warn", "getting close"), Band.NEAR: ("bad", "liquidation is near"),
    Band.LIQUIDATABLE: ("bad", "can be liquidated now"),
}


@register.inclusion_tag("lending/_loan.html")
def your_loan(user, page: bool = False) -> dict:
    """Read live from the chain each time: a stale number is never shown as current."""
    wallets = wallets_of(user)
    if not wallets:
        return {"loans": [], "hidden": True}
    try:
        _market, loans = loans_read(addresses=wallets)
    except Unavailable as exc:
        return {"loans": [], "error": exc.message, "page": page}
    levels = position_settings(addresses=wallets)
    readable = [
        replace(loan, levels=(levels[loan.address].close_at, levels[loan.address].near_at))
        if loan.address in levels else loan
        for loan in loans if loan is not None
    ]
    # A wallet the pool reverted for is named as unreadable; the others still show.
    unreadable = [a for a, loan in zip(wallets, loans, strict=True) if loan is None]
    error = f"The lending pool would not report the position of {', '.join(unreadable)}." if unreadable else ""
    return {"loans": readable, "page": page, "error": error}


@register.simple_tag
def health_badge(loan) -> str:
    close_at, near_at = loan.levels or (Decimal("1.5"), Decimal("1.1"))
    band = band_of(loan.health_factor, close_at=close_at, near_at=near_at)
    if band not in BADGES:
        return ""
    tone, words = BADGES[band]
    return format_html('<span class="badge badge--{}" data-testid="loan-band">{}</span>', tone, words)


@register.filter
def usd(value) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value) * 100:.0f} %"
