"""The market's risk now (GET /api/v1/risk and the status page's lending metrics): positions at risk and their debt,
liquidations in the last 24 h, bad debt, utilisation per market, oracle freshness and deviation from a reference."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from eth_abi import decode
from web3 import Web3

from governance.batch import Call, aggregate3, selector
from governance.chain import chain
from governance.deploy import contract_address
from portal.conf import portal_settings

from portal.errors import Refusal

from .models import RISK_METRICS, Liquidation, Position
from .reader import Market
from .selectors import decimal_text, loans_read

AT_RISK_BELOW = Decimal("1.1")
LATEST_ROUND_DATA = selector("latestRoundData()")
DECIMALS = selector("decimals()")


@dataclass
class OracleReading:
    symbol: str
    feed: str
    price: Decimal | None
    updated_at: int | None
    age_seconds: int | None
    reference_price: Decimal | None = None

    @property
    def deviation(self) -> Decimal | None:
        """|price − reference| / reference, as a fraction."""
        if self.price is None or not self.reference_price:
            return None
        return abs(self.price - self.reference_price) / self.reference_price

    def as_json(self) -> dict:
        return {"symbol": self.symbol, "feed": self.feed, "price": decimal_text(self.price),
                "updated_at": self.updated_at, "age_seconds": self.age_seconds,
                "reference_price": decimal_text(self.reference_price), "deviation": decimal_text(self.deviation)}


@dataclass
class Risk:
    block: int
    positions: int
    positions_at_risk: int
    debt_at_risk: Decimal
    liquidations_24h: int
    liquidated_debt_24h: Decimal
    bad_debt: Decimal
    unreadable: int
    utilisation: dict[str, Decimal] = field(default_factory=dict)
    oracle: list[OracleReading] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "block": self.block,
            "positions": self.positions,
            "positions_at_risk": self.positions_at_risk,
            "debt_at_risk": decimal_text(self.debt_at_risk),
            "liquidations_24h": self.liquidations_24h,
            "liquidated_debt_24h": decimal_text(self.liquidated_debt_24h),
            "bad_debt": decimal_text(self.bad_debt),
            "unreadable_positions": self.unreadable,
            "utilisation": {symbol: decimal_text(value) for symbol, value in self.utilisation.items()},
            "oracle": [reading.as_json() for reading in self.oracle],
        }

    def metric(self, name: str) -> float | None:
        """One number for a status-page check: positions_at_risk, debt_at_risk, liquidations_24h, bad_debt,
        utilisation (the borrow market, %), oracle_age (the oldest feed, s), oracle_deviation (the largest, %)."""
        if name == "utilisation":
            return float(next(iter(self.utilisation.values()), Decimal(0)) * 100)
        if name == "oracle_age":
            ages = [o.age_seconds for o in self.oracle if o.age_seconds is not None]
            return float(max(ages)) if ages else None
        if name == "oracle_deviation":
            deviations = [o.deviation for o in self.oracle if o.deviation is not None]
            return float(max(deviations) * 100) if deviations else 0.0
        return float(getattr(self, name))


def reference_feeds() -> dict[str, str]:
    """symbol -> reference feed: LENDING_REFERENCE_FEEDS, else the dev chain's ETH / USD reference feed for WETH."""
    configured = portal_settings().lending_reference_feeds
    if configured:
        return {symbol.upper(): Web3.to_checksum_address(a) for symbol, a in configured.items()}
    demo = contract_address("EthUsdReferenceOracle")
    return {"WETH": demo} if demo else {}


def oracle_readings(market: Market) -> list[OracleReading]:
    """Each asset's feed (and its reference) read in one batch at the market's block."""
    references = reference_feeds()
    feeds = [(a.symbol, a.feed) for a in market.assets]
    targets = [f for _, f in feeds] + [references[s] for s, _ in feeds if s.upper() in references]
    answers = aggregate3([Call(t, data) for t in targets for data in (LATEST_ROUND_DATA, DECIMALS)], block=market.block)
    now = chain().get_block(market.block)["timestamp"]
    read = {}
    for at, target in enumerate(targets):
        round_raw, decimals_raw = answers[2 * at], answers[2 * at + 1]
        if not round_raw or not decimals_raw:
            read[target] = (None, None)
            continue
        _round, answer, _started, updated, _answered = decode(["uint80", "int256", "uint256", "uint256", "uint80"],
                                                              round_raw)
        read[target] = (Decimal(answer).scaleb(-decode(["uint8"], decimals_raw)[0]), updated)
    readings = []
    for symbol, feed in feeds:
        price, updated = read[feed]
        reference = references.get(symbol.upper())
        readings.append(OracleReading(
            symbol=symbol, feed=feed, price=price, updated_at=updated,
            age_seconds=max(0, now - updated) if updated is not None else None,
            reference_price=read[reference][0] if reference else None,
        ))
    return readings


def risk_read() -> Risk:
    """Read every known position (watched wallets and the pool's borrowers) at the head block, in batches."""
    addresses = list(Position.objects.values_list("address", flat=True))
    market, loans = loans_read(addresses=addresses)
    at_risk = [loan for loan in loans if loan and loan.health_factor is not None and loan.health_factor < AT_RISK_BELOW]
    bad = [loan for loan in loans if loan and loan.data.debt_base and not loan.data.collateral_base]
    since = timezone.now() - timedelta(hours=24)
    recent = Liquidation.objects.filter(at__gte=since).aggregate(count=Count("pk"), debt=Sum("debt_covered"))
    borrow = market.asset(market.borrow_asset)
    utilisation = {}
    if market.total_supplied is not None and market.total_borrowed is not None:
        utilisation[borrow.symbol if borrow else "debt"] = (
            Decimal(market.total_borrowed) / market.total_supplied if market.total_supplied else Decimal(0)
        )
    return Risk(
        block=market.block,
        positions=sum(1 for loan in loans if loan and not loan.is_empty),
        positions_at_risk=len(at_risk),
        debt_at_risk=sum((loan.debt for loan in at_risk), Decimal(0)),
        liquidations_24h=recent["count"] or 0,
        liquidated_debt_24h=Decimal(recent["debt"] or 0).scaleb(-(borrow.decimals if borrow else 18)),
        bad_debt=sum((loan.debt for loan in bad), Decimal(0)),
        unreadable=sum(1 for loan in loans if loan is None),
        utilisation=utilisation,
        oracle=oracle_readings(market) if market.assets else [],
    )


_recent: dict[str, tuple[float, Risk]] = {}
RISK_CACHE_SECONDS = 5.0


def risk_metric(name: str) -> float | None:
    """One of RISK_METRICS for a status-page check; the checks of one sampler tick share one read of the market."""
    if name not in RISK_METRICS:
        raise Refusal(f"“{name}” is not a lending risk metric; use one of {', '.join(RISK_METRICS)}.")
    cached = _recent.get("risk")
    if cached is None or time.monotonic() - cached[0] > RISK_CACHE_SECONDS:
        cached = (time.monotonic(), risk_read())
        _recent["risk"] = cached
    return cached[1].metric(name)
