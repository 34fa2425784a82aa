"""Reads: a wallet's loan at the head block (collateral, debt, health factor, borrowing power left, the price of each
collateral at which it is liquidated), many loans in batches, and the watched positions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max
from web3 import Web3

from portal.errors import Refusal, Unavailable

from . import reader
from .models import Band, Liquidation, Position
from .reader import BASE_DECIMALS, BPS, AccountData, Asset, Market


def decimal_text(value: Decimal | None) -> str | None:
    """Plain digits with an optional fraction, never exponent notation (CONTRACT's decimal strings)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def parse_address(text: str) -> str:
    """A checksummed address, or a Refusal naming what was given."""
    if not isinstance(text, str) or not Web3.is_address(text.strip()):
        raise Refusal(f"“{str(text)[:60]}” is not an Ethereum address (0x and 40 hexadecimal digits).")
    return Web3.to_checksum_address(text.strip())


@dataclass(frozen=True)
class LiquidationPrice:
    asset: Asset
    amount: Decimal  # whole tokens held as collateral
    liquidation_price: Decimal | None  # None: no fall of this asset alone liquidates the position

    @property
    def drop(self) -> Decimal | None:
        """How far under today's price the liquidation price is, as a fraction (0.18 = 18 %)."""
        if self.liquidation_price is None or not self.asset.price_base:
            return None
        return max(Decimal(0), 1 - self.liquidation_price / self.asset.price)

    def as_json(self) -> dict:
        return {
            "asset": self.asset.address,
            "symbol": self.asset.symbol,
            "amount": decimal_text(self.amount),
            "price": decimal_text(self.asset.price),
            "liquidation_price": decimal_text(self.liquidation_price),
        }


@dataclass(frozen=True)
class Loan:
    address: str
    block: int
    data: AccountData
    prices: tuple[LiquidationPrice, ...]
    borrow_symbol: str = ""
    levels: tuple[Decimal, Decimal] | None = None  # the wallet's alert levels, for the badge

    @property
    def collateral(self) -> Decimal:
        return Decimal(self.data.collateral_base).scaleb(-BASE_DECIMALS)

    @property
    def debt(self) -> Decimal:
        return Decimal(self.data.debt_base).scaleb(-BASE_DECIMALS)

    @property
    def available_borrows(self) -> Decimal:
        return Decimal(self.data.available_base).scaleb(-BASE_DECIMALS)

    @property
    def health_factor(self) -> Decimal | None:
        return self.data.health_factor

    @property
    def has_debt(self) -> bool:
        return self.data.debt_base > 0

    @property
    def is_empty(self) -> bool:
        return self.data.debt_base == 0 and self.data.collateral_base == 0

    def as_json(self) -> dict:
        """GET /api/v1/positions/{address} (CONTRACT)."""
        return {
            "address": self.address,
            "block": self.block,
            "collateral": decimal_text(self.collateral),
            "debt": decimal_text(self.debt),
            "available_borrows": decimal_text(self.available_borrows),
            "liquidation_threshold": decimal_text(Decimal(self.data.liquidation_threshold_bps) / BPS),
            "ltv": decimal_text(Decimal(self.data.ltv_bps) / BPS),
            "health_factor": decimal_text(self.health_factor),
            "liquidation_prices": [p.as_json() for p in self.prices],
        }


def liquidation_prices(data: AccountData, balances: dict[str, int], market: Market) -> tuple[LiquidationPrice, ...]:
    """For each collateral held, the price (in the base currency's 8 decimals) below which the position is
    liquidatable with every other price unchanged, by the pool's own rule: it is liquidatable while
    Σ floor(amount × price / 10^decimals) × threshold < debt × 10,000. At that price it is not; one unit (1e-8)
    under it, it is."""
    held = [(asset, balances.get(asset.address, 0)) for asset in market.collaterals]
    held = [(asset, amount) for asset, amount in held if amount]
    weighted = {asset.address: amount * asset.price_base // 10**asset.decimals * asset.threshold_bps
                for asset, amount in held}
    total = sum(weighted.values())
    limit = data.debt_base * int(BPS)
    result = []
    for asset, amount in held:
        price = None
        if data.debt_base and asset.threshold_bps:
            # floor(amount × p / 10^d) must stay under the value this asset needs to cover: V = ceil(rest / threshold)
            needed = -(-(limit - (total - weighted[asset.address])) // asset.threshold_bps)
            if needed > 0:
                units = -(-needed * 10**asset.decimals // amount)  # the least p with floor(amount × p / 10^d) ≥ V
                price = Decimal(units).scaleb(-BASE_DECIMALS)
        result.append(LiquidationPrice(asset=asset, amount=Decimal(amount).scaleb(-asset.decimals),
                                       liquidation_price=price))
    return tuple(result)


def _borrow_symbol(market: Market) -> str:
    asset = market.asset(market.borrow_asset) if market.borrow_asset else None
    return asset.symbol if asset else ""


def loans_read(*, addresses: Sequence[str], block: int | None = None) -> tuple[Market, list[Loan | None]]:
    """The loans of `addresses` at `block` (default: the head), in Multicall3 batches. A None marks an account the
    pool reverted for; only that one. Raises PoolMisconfigured or ChainUnavailable (sentences) when nothing can be
    read at all."""
    pool = reader.require_readable()
    block = reader.head_block() if block is None else block
    market = reader.market(pool=pool, block=block)
    data = reader.account_data(addresses, pool=pool, block=block)
    with_collateral = [a for a, d in zip(addresses, data, strict=True) if d is not None and d.collateral_base]
    balances = dict(zip(with_collateral, reader.collateral_balances(with_collateral, market=market), strict=True))
    symbol = _borrow_symbol(market)
    loans = [
        None if d is None else Loan(address=a, block=block, data=d, borrow_symbol=symbol,
                                     prices=liquidation_prices(d, balances.get(a, {}), market))
        for a, d in zip(addresses, data, strict=True)
    ]
    return market, loans


def loan_read(*, address: str) -> Loan:
    """One wallet's loan at the head block. Raises Refusal for a malformed address, Unavailable when the node, the
    pool, or the pool's answer for this account cannot be read."""
    checksummed = parse_address(address)
    _market, (loan,) = loans_read(addresses=[checksummed])
    if loan is None:
        raise Unavailable(f"The lending pool would not report the position of {checksummed} (its call reverted).")
    return loan


def wallets_of(user) -> list[str]:
    """The user's linked wallets, checksummed, oldest first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    uids = user.socialaccount_set.filter(provider="siwe").order_by("date_joined").values_list("uid", flat=True)
    return [Web3.to_checksum_address(uid) for uid in uids if Web3.is_address(uid)]


def position_settings(*, addresses: Sequence[str]) -> dict[str, Position]:
    """The stored alert levels (and last band) of these wallets; wallets without a row use the defaults."""
    return {p.address: p for p in Position.objects.filter(address__in=list(addresses))}


def watched_positions() -> list[Position]:
    """Every position the sampler reads each tick."""
    return list(Position.objects.select_related("user"))


def band_of(health_factor: Decimal | None, *, close_at: Decimal, near_at: Decimal) -> str:
    """The band a reading falls in, without hysteresis."""
    if health_factor is None:
        return Band.NO_DEBT
    if health_factor < 1:
        return Band.LIQUIDATABLE
    if health_factor < near_at:
        return Band.NEAR
    if health_factor < close_at:
        return Band.CLOSE
    return Band.SAFE


def liquidated_questions(posts) -> set[int]:
    """Of these support questions, the pk of each author's first one asked since their loan was last liquidated."""
    authors = {p.author_id for p in posts}
    last = dict(Liquidation.objects.filter(user_id__in=authors).values("user_id").annotate(at=Max("at"))
                .values_list("user_id", "at"))
    first: dict[int, object] = {}
    for post in sorted(posts, key=lambda p: (p.created, p.pk)):
        if post.author_id in last and post.created >= last[post.author_id] and post.author_id not in first:
            first[post.author_id] = post
    return {post.pk for post in first.values()}
