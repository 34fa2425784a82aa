"""Improvement proposals (LIP-N), their signed votes, the running tally and the lifecycle log.

Token amounts are stored as decimal strings (token units): SQLite keeps only 15 significant digits of a NUMERIC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from governance.voting import BASIC_CHOICES, VotingType


class ProposalState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"
    EXECUTED = "executed", "Executed"
    CANCELLED = "cancelled", "Cancelled"


class Category(models.TextChoices):
    PROTOCOL = "protocol", "Protocol"
    RISK = "risk", "Risk parameters"
    TREASURY = "treasury", "Treasury"
    COMMUNITY = "community", "Community"
    META = "meta", "Governance process"


class QuorumKind(models.TextChoices):
    AMOUNT = "amount", "Token amount"
    PERCENT = "percent", "Percent of total supply at the snapshot"


class Proposal(models.Model):
    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=20000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    author_address = models.CharField(max_length=42, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.PROTOCOL)
    voting_type = models.CharField(max_length=20, choices=VotingType.choices, default=VotingType.BASIC)
    choices = models.JSONField(default=list)
    start = models.DateTimeField()
    end = models.DateTimeField()
    snapshot_block = models.PositiveBigIntegerField(null=True, blank=True)
    snapshot_time = models.DateTimeField(null=True, blank=True)
    quorum_kind = models.CharField(max_length=10, choices=QuorumKind.choices, default=QuorumKind.AMOUNT)
    quorum_value = models.CharField(max_length=80, default="0", help_text="As entered: tokens, or a percent.")
    quorum = models.CharField(max_length=80, default="0", help_text="Token amount; fixed at activation.")
    strategies = models.JSONField(default=list, blank=True)
    thread = models.ForeignKey(
        "discussion.Thread", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    execution_tx = models.CharField(max_length=66, blank=True)
    close_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        indexes = [models.Index(fields=["activated_at", "end"]), models.Index(fields=["category"])]

    def __str__(self) -> str:
        return f"{self.label}: {self.title}"

    @property
    def label(self) -> str:
        return f"LIP-{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("governance:detail", args=[self.number])

    def state_at(self, now: datetime | None = None) -> str:
        """The state follows the clock: nothing has to run for a proposal to open or close."""
        now = now or timezone.now()
        if self.executed_at:
            return ProposalState.EXECUTED
        if self.cancelled_at:
            return ProposalState.CANCELLED
        if self.activated_at is None:
            return ProposalState.DRAFT
        if now < self.start:
            return ProposalState.PENDING
        if now < self.end:
            return ProposalState.ACTIVE
        return ProposalState.CLOSED

    @property
    def state(self) -> str:
        return self.state_at()

    @property
    def quorum_amount(self) -> Decimal:
        return Decimal(self.quorum or "0")

    @property
    def choice_names(self) -> list[str]:
        return list(BASIC_CHOICES) if self.voting_type == VotingType.BASIC else list(self.choices)


class ProposalTally(models.Model):
    """The running tally: updated in the vote's transaction under a row lock, read without a recount."""

    proposal = models.OneToOneField(Proposal, primary_key=True, on_delete=models.CASCADE, related_name="tally")
    state = models.JSONField(default=dict)
    voters = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(default=timezone.now)


class Vote(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=42, help_text="Checksummed address that signed.")
    choice = models.TextField(help_text="JSON text exactly as signed.")
    reason = models.TextField(blank=True)
    timestamp = models.PositiveBigIntegerField(help_text="Unix seconds, as signed.")
    signature = models.TextField()
    receipt = models.CharField(max_length=66, help_text="EIP-712 hash of the signed message.")
    weight = models.CharField(max_length=80, help_text="Token units at the snapshot block.")
    weight_sort = models.FloatField(default=0, help_text="For ordering only.")
    payload = models.JSONField(default=dict, help_text="The full EIP-712 typed data that was signed.")
    signer_kind = models.CharField(max_length=10, blank=True, help_text="eoa, eip1271 or eip6492 (governance.signers).")
    # A contract wallet's answer can change later (its owners rotate): the block it was asked at, so a recount asks
    # it again there. None for an EOA, whose signature proves itself at any block.
    verified_block = models.PositiveBigIntegerField(null=True, blank=True)
    verified_block_hash = models.CharField(max_length=66, blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "voter"], name="one_vote_per_voter")]
        indexes = [models.Index(fields=["proposal", "-weight_sort"])]
        ordering = ["-weight_sort", "id"]

    def __str__(self) -> str:
        return f"{self.voter} on {self.proposal_id}"

    @property
    def weight_amount(self) -> Decimal:
        return Decimal(self.weight)


class RiskParameterChange(models.Model):
    """The structured change a risk proposal votes on: one collateral's LTV or liquidation threshold in a lending
    market, old and new value (fractions as decimal strings), or a price-shock scenario for that collateral. After
    the proposal is executed the portal reads the parameter on-chain and records what it found."""

    class Parameter(models.TextChoices):
        LIQUIDATION_THRESHOLD = "liquidation_threshold", "Liquidation threshold"
        LTV = "ltv", "Loan-to-value (LTV)"
        PRICE_SHOCK = "price_shock", "Price shock (a scenario)"

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="risk_change")
    market = models.CharField(max_length=42, help_text="The lending pool's checksummed address.")
    asset = models.CharField(max_length=42, help_text="The collateral's checksummed address.")
    symbol = models.CharField(max_length=16)
    parameter = models.CharField(max_length=24, choices=Parameter.choices)
    old_value = models.CharField(max_length=40, help_text="A fraction (0.825 = 82.5 %) when the draft was saved.")
    new_value = models.CharField(max_length=40, help_text="A fraction; for a price shock the relative change.")
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_block = models.PositiveBigIntegerField(null=True, blank=True)
    onchain_value = models.CharField(max_length=40, blank=True, help_text="What the pool answered at checked_block.")
    onchain_matches = models.BooleanField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.symbol} {self.parameter} → {self.new_value}"

    @property
    def new_amount(self) -> Decimal:
        return Decimal(self.new_value)


class ProposalEvent(models.Model):
    """One lifecycle transition: who, when, why."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Edited"
        ACTIVATED = "activated", "Voting scheduled"
        CLOSED = "closed", "Voting closed"
        EXECUTED = "executed", "Executed"
        CHECKED = "checked", "Checked on-chain"
        CANCELLED = "cancelled", "Cancelled"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=80, blank=True, help_text="Address, or 'the clock'.")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class SnapshotWeight(models.Model):
    """A voter's weight at the proposal's snapshot block, read once: in one batch for the token's holders and
    delegates when voting opens, or at the voter's first vote. The snapshot block is fixed, so it never changes."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="snapshot_weights")
    voter = models.CharField(max_length=42, help_text="Checksummed address.")
    weight = models.CharField(max_length=80, help_text="Token units at the snapshot block.")
    read = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "voter"], name="governance_one_weight_per_voter")]


class ProposalExport(models.Model):
    """A closed proposal's recount file, computed once (governance.exports) and served as stored: the bytes, their
    sha256 (the ETag) and the version of what the file shows of the proposal, so a change after the close (an
    execution, a cancel, a risk check) makes a new copy instead of serving a stale one."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="exports")
    version = models.CharField(max_length=64, help_text="sha256 of the proposal part of the file and the revision.")
    body = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "version"], name="governance_one_export_per_version")]
