"""What the portal remembers about loans: the positions it watches (with each wallet's alert levels and the band it
was last seen in), and the liquidations the pool reported. The loan itself always lives on-chain."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

# The market-risk numbers a status-page check can chart (portal.lending.risk.Risk.metric).
RISK_METRICS = ("positions_at_risk", "debt_at_risk", "liquidations_24h", "bad_debt", "utilisation", "oracle_age",
                "oracle_deviation")
DEFAULT_CLOSE_AT = Decimal("1.5")
DEFAULT_NEAR_AT = Decimal("1.1")


class Band(models.TextChoices):
    """Where a position's health factor stands against its wallet's two alert levels."""

    NO_DEBT = "no_debt", "No debt"
    SAFE = "safe", "Safe"
    CLOSE = "close", "Getting close"
    NEAR = "near", "Liquidation is near"
    LIQUIDATABLE = "liquidatable", "Liquidatable"


class Position(models.Model):
    """One wallet the sampler reads each tick: a signed-in user's wallet or a borrower the pool told us of."""

    address = models.CharField(max_length=42, unique=True)  # checksummed
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="lending_positions")
    close_at = models.DecimalField(max_digits=8, decimal_places=4, default=DEFAULT_CLOSE_AT,
                                   validators=[MinValueValidator(Decimal(1))])
    near_at = models.DecimalField(max_digits=8, decimal_places=4, default=DEFAULT_NEAR_AT,
                                  validators=[MinValueValidator(Decimal(1))])
    band = models.CharField(max_length=16, choices=Band.choices, default=Band.NO_DEBT)
    # The last reading (base currency, 8 decimals as stored on-chain; health factor 1e18), for risk and the charts.
    collateral_base = models.DecimalField(max_digits=60, decimal_places=0, default=0)
    debt_base = models.DecimalField(max_digits=60, decimal_places=0, default=0)
    health_factor = models.DecimalField(max_digits=40, decimal_places=18, null=True, blank=True)
    read_block = models.PositiveBigIntegerField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address

    def clean(self) -> None:
        if self.near_at is not None and self.close_at is not None and self.near_at >= self.close_at:
            raise ValidationError("The “liquidation is near” level must be below the “getting close” level.")


class Liquidation(models.Model):
    """A `Liquidated` event of the pool, stored once (tx hash + log index)."""

    tx_hash = models.CharField(max_length=66)
    log_index = models.PositiveIntegerField()
    block = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    account = models.CharField(max_length=42, db_index=True)
    liquidator = models.CharField(max_length=42)
    collateral_asset = models.CharField(max_length=42)
    collateral_symbol = models.CharField(max_length=16, blank=True)
    debt_covered = models.DecimalField(max_digits=78, decimal_places=0)  # in the borrow asset's smallest unit
    collateral_seized = models.DecimalField(max_digits=78, decimal_places=0)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="liquidations")

    class Meta:
        ordering = ["-block", "-log_index"]
        constraints = [models.UniqueConstraint(fields=["tx_hash", "log_index"], name="lending_liquidation_once")]


class EventCursor(models.Model):
    """How far the pool's events have been read (per pool address)."""

    pool = models.CharField(max_length=42, unique=True)
    block = models.PositiveBigIntegerField()
