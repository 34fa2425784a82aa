"""Writes: a wallet's alert levels, and the sampler's tick (read every watched position in batches, alert on a
crossing with hysteresis, record the pool's liquidations and tell the borrower)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal, InvalidOperation

from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from eth_abi import decode
from eth_utils import keccak
from web3 import Web3

from governance.chain import ChainUnavailable, chain
from portal.conf import portal_settings
from portal.errors import Forbidden, Refusal
from portal.notifications.services import notify_later

from . import live, reader, selectors
from .models import Band, EventCursor, Liquidation, Position
from .selectors import band_of, decimal_text

log = logging.getLogger(__name__)

LIQUIDATED_TOPIC = "0x" + keccak(text="Liquidated(address,address,address,uint256,uint256)").hex()
BORROWED_TOPIC = "0x" + keccak(text="Borrowed(address,address,uint256)").hex()
SEVERITY = {Band.NO_DEBT: 0, Band.SAFE: 0, Band.CLOSE: 1, Band.NEAR: 2, Band.LIQUIDATABLE: 3}
# A band is left for a better one only once the health factor is this far past the level: no storm of alerts from
# a price wiggling around it.
HYSTERESIS = Decimal("0.02")
LOG_RANGE = 5_000
MAX_LEVEL = Decimal(100)
# A dust debt gives an astronomic health factor; the column keeps 22 integer digits, far past any alert level.
STORED_HEALTH_MAX = Decimal(10**12)


def _level(text, *, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        raise Refusal(f"The {what} level “{str(text)[:20]}” is not a number; give a health factor such as 1.5.")
    if value < 1:
        raise Refusal(
            f"The {what} level must be 1 or more: at a health factor under 1 the loan can already be liquidated."
        )
    if value > MAX_LEVEL:
        raise Refusal(f"The {what} level must be at most {MAX_LEVEL}.")
    return value.quantize(Decimal("0.0001"))


def alert_levels_set(*, user, address: str, close_at, near_at) -> Position:
    """Set the two health-factor levels of one of `user`'s wallets ("getting close" above "liquidation is near").
    Refuses non-numbers, levels under 1, and a near level not below the close one; nothing is saved then."""
    checksummed = selectors.parse_address(address)
    if checksummed not in selectors.wallets_of(user):
        raise Forbidden("You can set alerts only for a wallet linked to your account.")
    close, near = _level(close_at, what="“getting close”"), _level(near_at, what="“liquidation is near”")
    if near >= close:
        raise Refusal("The “liquidation is near” level must be below the “getting close” level.")
    position = Position.objects.filter(address=checksummed).first() or Position(address=checksummed)
    position.user, position.close_at, position.near_at = user, close, near
    position.full_clean()
    position.save()
    return position


def positions_watch_sync() -> int:
    """Every signed-in wallet is watched (default levels) and every watched wallet knows its user."""
    wallets = {}
    for uid, user_id in SocialAccount.objects.filter(provider="siwe").values_list("uid", "user_id"):
        if Web3.is_address(uid):
            wallets[Web3.to_checksum_address(uid)] = user_id
    known = dict(Position.objects.values_list("address", "user_id"))
    new = [Position(address=a, user_id=u) for a, u in wallets.items() if a not in known]
    Position.objects.bulk_create(new, ignore_conflicts=True)
    for address, user_id in wallets.items():
        if address in known and known[address] != user_id:
            Position.objects.filter(address=address).update(user_id=user_id)
    return len(new)


def settle_band(previous: str, health_factor: Decimal | None, *, close_at: Decimal, near_at: Decimal) -> str:
    """Worse at once; better only once the health factor clears the level by HYSTERESIS."""
    observed = band_of(health_factor, close_at=close_at, near_at=near_at)
    if observed == Band.NO_DEBT or SEVERITY[observed] >= SEVERITY.get(previous, 0):
        return observed
    cleared = band_of(health_factor / (1 + HYSTERESIS), close_at=close_at, near_at=near_at)
    return cleared if SEVERITY[cleared] < SEVERITY[previous] else previous


def _alert_text(loan, band: str, position: Position) -> str:
    hf = loan.health_factor.quantize(Decimal("0.01"))
    words = {
        Band.CLOSE: f"Your loan's health factor fell to {hf}, under your “getting close” level of "
                    f"{position.close_at.normalize()}.",
        Band.NEAR: f"Liquidation is near: your loan's health factor is {hf}, under your level of "
                   f"{position.near_at.normalize()}.",
        Band.LIQUIDATABLE: f"Your loan can be liquidated now: its health factor is {hf}, under 1.",
    }[band]
    nearest = min((p for p in loan.prices if p.drop is not None), key=lambda p: p.drop, default=None)
    if nearest is not None and band != Band.LIQUIDATABLE:
        words += f" It is liquidated if {nearest.asset.symbol} falls below ${nearest.liquidation_price:,.0f}."
    return words + " Repay some debt or add collateral to stay safe."


@dataclass
class TickReport:
    read: int = 0
    unreadable: int = 0
    alerts: int = 0
    liquidations: int = 0
    errors: list[str] = field(default_factory=list)


_last_read: dict[str, float] = {}


def positions_tick(*, now: datetime | None = None, force: bool = False) -> TickReport:
    """One sampler tick (at most every LENDING_TICK_SECONDS unless `force`): record new liquidations, read every
    watched position in Multicall3 batches, alert users on a crossing, push changed loans live. Never raises for a
    chain that is down or a pool that is misconfigured (logged; positions keep their last reading)."""
    report = TickReport()
    moment = (now or timezone.now()).timestamp()
    if not force and moment - _last_read.get("tick", 0) < portal_settings().lending_tick_seconds:
        return report
    _last_read["tick"] = moment
    positions_watch_sync()
    try:
        report.liquidations = liquidations_record()
        positions = selectors.watched_positions()
        _market, loans = selectors.loans_read(addresses=[p.address for p in positions])
    except (ChainUnavailable, reader.PoolMisconfigured) as exc:
        report.errors.append(exc.message)
        log.info("lending tick skipped: %s", exc.message)
        return report
    at = now or timezone.now()
    changed, alerts = [], []
    for position, loan in zip(positions, loans, strict=True):
        if loan is None:
            report.unreadable += 1
            continue
        report.read += 1
        hf = loan.health_factor
        stored = None if hf is None else min(hf, STORED_HEALTH_MAX).quantize(Decimal(10) ** -18)
        moved = (position.health_factor != stored
                 or position.debt_base != loan.data.debt_base or position.collateral_base != loan.data.collateral_base)
        band = settle_band(position.band, hf, close_at=position.close_at, near_at=position.near_at)
        if position.user_id and SEVERITY[band] > SEVERITY.get(position.band, 0) and band != Band.NO_DEBT:
            key = f"loan-risk:{position.pk}:{band}:{loan.block}"
            alerts.append((position, key, _alert_text(loan, band, position)))
        position.band, position.health_factor = band, stored
        position.collateral_base, position.debt_base = loan.data.collateral_base, loan.data.debt_base
        position.read_block, position.read_at = loan.block, at
        if moved and position.user_id:
            live.loan_broadcast(loan=loan)
        changed.append(position)
    with transaction.atomic():  # a band and its alert are saved together: no alert lost, none sent twice
        for position, key, text in alerts:
            report.alerts += notify_later(recipients=[position.user], verb="loan_risk", url=reverse("lending:loan"),
                                          text=text, key=key)
        Position.objects.bulk_update(changed, ["band", "health_factor", "collateral_base", "debt_base",
                                               "read_block", "read_at"], batch_size=500)
    return report


def liquidations_record() -> int:
    """Read the pool's new events: store each `Liquidated` once and tell the borrower in plain words; watch every
    new borrower (`Borrowed`). Returns how many liquidations were new."""
    pool = reader.require_readable()
    node = chain()
    head = node.block_number()
    cursor = EventCursor.objects.filter(pool=pool).first()
    start = cursor.block + 1 if cursor else max(0, head - LOG_RANGE)
    if start > head:
        return 0
    market = reader.market(pool=pool, block=head)
    owners = dict(SocialAccount.objects.filter(provider="siwe").values_list("uid", "user_id"))
    owners = {Web3.to_checksum_address(uid): uid_user for uid, uid_user in owners.items() if Web3.is_address(uid)}
    found, borrowers = [], set()
    for begin in range(start, head + 1, LOG_RANGE):
        logs = node.retrying("reading the pool's events", node.w3.eth.get_logs, {
            "address": pool, "fromBlock": begin, "toBlock": min(head, begin + LOG_RANGE - 1),
            "topics": [[LIQUIDATED_TOPIC, BORROWED_TOPIC]],
        })
        for entry in logs:
            if entry["topics"][0].to_0x_hex() == BORROWED_TOPIC:
                borrowers.add(Web3.to_checksum_address(entry["topics"][1][-20:]))
                continue
            account, liquidator, asset = (Web3.to_checksum_address(t[-20:]) for t in entry["topics"][1:4])
            debt, seized = decode(["uint256", "uint256"], bytes(entry["data"]))
            block = node.get_block(entry["blockNumber"])
            symbol = market.asset(asset).symbol if market.asset(asset) else asset[:8]
            found.append(Liquidation(
                tx_hash=entry["transactionHash"].to_0x_hex(), log_index=entry["logIndex"], block=entry["blockNumber"],
                at=datetime.fromtimestamp(block["timestamp"], tz=dt_timezone.utc), account=account,
                liquidator=liquidator, collateral_asset=asset, collateral_symbol=symbol, debt_covered=debt,
                collateral_seized=seized, user_id=owners.get(account),
            ))
    with transaction.atomic():
        known = set(Liquidation.objects.filter(tx_hash__in=[f.tx_hash for f in found])
                    .values_list("tx_hash", "log_index"))
        new = [f for f in found if (f.tx_hash, f.log_index) not in known]
        Liquidation.objects.bulk_create(new)
        # Every borrower is watched, so the market's risk covers positions nobody signed in for.
        Position.objects.bulk_create([Position(address=a) for a in sorted(borrowers)], ignore_conflicts=True)
        EventCursor.objects.update_or_create(pool=pool, defaults={"block": head})
        for liquidation in new:  # queued with the record: told once, even if this process dies now
            if liquidation.user_id:
                _tell_liquidated(liquidation, market)
    return len(new)


def _tell_liquidated(liquidation: Liquidation, market) -> None:
    borrow = market.asset(market.borrow_asset)
    collateral = market.asset(liquidation.collateral_asset)
    debt = Decimal(liquidation.debt_covered).scaleb(-(borrow.decimals if borrow else 18))
    seized = Decimal(liquidation.collateral_seized).scaleb(-(collateral.decimals if collateral else 18))
    text = (
        f"Your loan was liquidated at block {liquidation.block}: the health factor fell under 1, so a liquidator "
        f"repaid {debt:,.2f} {borrow.symbol if borrow else ''} of your debt and took {decimal_text(seized)} "
        f"{liquidation.collateral_symbol} of your collateral in exchange, bonus included. Your next support "
        "question goes to the front of the queue."
    )
    notify_later(recipients=[liquidation.user], verb="liquidated", url=reverse("lending:loan"), text=text,
                 key=f"liquidated:{liquidation.tx_hash}:{liquidation.log_index}")
