"""Components, their checks and samples, the status log behind the uptime bars, incidents, maintenance, webhooks.

Names and values follow Atlassian Statuspage so `/api/v2/*.json` reads like it (CONTRACT.md, Status API).
"""

import secrets
import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from portal.lending.models import RISK_METRICS


def new_code() -> str:
    """A short public id like Statuspage's (`"ftgks51sfs2d"`): stable, unguessable, safe in URLs."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


def new_secret() -> str:
    return secrets.token_hex(24)


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded_performance", "Degraded performance"
    PARTIAL = "partial_outage", "Partial outage"
    MAJOR = "major_outage", "Major outage"
    MAINTENANCE = "under_maintenance", "Under maintenance"


class Impact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"
    MAINTENANCE = "maintenance", "Maintenance"


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    POSTMORTEM = "postmortem", "Postmortem"


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


CLOSED_STATUSES = ("resolved", "postmortem", "completed")


class ComponentGroup(models.Model):
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=240, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """A part of the platform people care about. `status` is what its checks say (kept by the sampler);
    `displayed_status` adds maintenance windows."""

    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    slug = models.SlugField(max_length=60, unique=True)
    group = models.ForeignKey(ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components")
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=240, blank=True)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL)
    status_since = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group__position", "position", "name"]

    def __str__(self) -> str:
        return self.name


class CheckKind(models.TextChoices):
    RPC_LATENCY = "rpc_latency", "RPC latency (ms)"
    RPC_HEAD_AGE = "rpc_head_age", "RPC head block age (s)"
    RPC_HEAD_LAG = "rpc_head_lag", "RPC head lag behind a reference node (blocks)"
    DATABASE = "database", "Database round trip (ms)"
    CHANNEL_LAYER = "channel_layer", "Channel layer round trip (ms)"
    CONTRACT_VIEW = "contract_view", "On-chain metric (contract view function)"
    LENDING_RISK = "lending_risk", "Lending market risk (portal.lending: positions at risk, liquidations, oracles)"


class Direction(models.TextChoices):
    HIGHER_IS_WORSE = "higher_is_worse", "Higher is worse"
    LOWER_IS_WORSE = "lower_is_worse", "Lower is worse"


class Check(models.Model):
    """One number measured on an interval, with thresholds that map it to a component status.

    A contract view is configured in `config`: `{"contract": "LendingPool"}` (a name the deployment knows) or
    `{"address": "0x…"}`, `"signature": "utilization()(uint256)"`, `"args": []`, `"result_index": 0`,
    `"decimals": 16`, `"transform": "value" | "age"` (`age`: the result is a unix time; the value is its age in s).
    """

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="checks")
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=CheckKind.choices)
    unit = models.CharField(max_length=16, blank=True, help_text="Shown after the value, e.g. ms, s, %, LEND.")
    config = models.JSONField(default=dict, blank=True)
    interval_seconds = models.PositiveIntegerField(default=30)
    enabled = models.BooleanField(default=True)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.HIGHER_IS_WORSE)
    degraded_at = models.FloatField(null=True, blank=True)
    partial_at = models.FloatField(null=True, blank=True)
    major_at = models.FloatField(null=True, blank=True)
    consecutive = models.PositiveSmallIntegerField(
        default=2, help_text="Samples in a row that must agree before the status changes (hysteresis)."
    )
    position = models.PositiveIntegerField(default=0)
    # Kept by the sampler.
    status = models.CharField(max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL)
    pending_status = models.CharField(max_length=24, blank=True)
    pending_count = models.PositiveSmallIntegerField(default=0)
    last_value = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["component", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["component", "slug"], name="health_check_slug_per_component")]

    def __str__(self) -> str:
        return f"{self.component.name}: {self.name}"

    def clean(self):
        thresholds = [t for t in (self.degraded_at, self.partial_at, self.major_at) if t is not None]
        ordered = sorted(thresholds, reverse=self.direction == Direction.LOWER_IS_WORSE)
        if thresholds != ordered:
            raise ValidationError(
                "The thresholds must get worse in order: degraded, then partial outage, then major outage."
            )
        if self.kind == CheckKind.CONTRACT_VIEW:
            if not (self.config.get("contract") or self.config.get("address")):
                raise ValidationError("A contract view check needs a contract name or an address in its config.")
            if not self.config.get("signature"):
                raise ValidationError("A contract view check needs a function signature, e.g. utilization()(uint256).")
        if self.kind == CheckKind.LENDING_RISK and self.config.get("metric") not in RISK_METRICS:
            raise ValidationError(f"A lending risk check needs a metric in its config, one of {', '.join(RISK_METRICS)}.")
        if self.interval_seconds < 1:
            raise ValidationError("The interval must be at least one second.")


class Sample(models.Model):
    """One run of a check. `value` is None when the check could not run (`error` says why)."""

    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="samples", db_column="check_id")
    at = models.DateTimeField(db_index=True)
    value = models.FloatField(null=True)
    status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["check_ref", "at"])]


class HourlyRollup(models.Model):
    """Samples of one check in one hour, kept 90 days after the raw samples are pruned (7 days)."""

    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="rollups", db_column="check_id")
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()
    failures = models.PositiveIntegerField()
    minimum = models.FloatField(null=True)
    maximum = models.FloatField(null=True)
    mean = models.FloatField(null=True)
    worst_status = models.CharField(max_length=24, choices=ComponentStatus.choices)

    class Meta:
        ordering = ["hour"]
        constraints = [models.UniqueConstraint(fields=["check_ref", "hour"], name="health_rollup_per_hour")]


class ComponentStatusChange(models.Model):
    """The status log: a component had `status` from `at` until the next change. Uptime bars are computed from it."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "pk"]


class Incident(models.Model):
    """An incident or a scheduled maintenance (Statuspage keeps both in one shape). Drafts are opened by the
    sampler and stay private until staff confirm them."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", "Incident"
        MAINTENANCE = "maintenance", "Scheduled maintenance"

    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INCIDENT)
    name = models.CharField(max_length=160)
    status = models.CharField(max_length=16)
    impact = models.CharField(max_length=12, choices=Impact.choices, default=Impact.MINOR)
    draft = models.BooleanField(default=False)
    components = models.ManyToManyField(Component, blank=True, related_name="incidents")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(default=timezone.now)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_until = models.DateTimeField(null=True, blank=True)
    # What staff say each affected component's status is while the incident is open ({code: status}); a
    # component shows the worse of this and its checks (Statuspage lets an incident set its components' status).
    component_statuses = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def is_maintenance(self) -> bool:
        return self.kind == self.Kind.MAINTENANCE

    def clean(self):
        allowed = MaintenanceStatus.values if self.is_maintenance else IncidentStatus.values
        if self.status not in allowed:
            raise ValidationError(f"“{self.status}” is not a status of {self.get_kind_display().lower()}s.")
        if self.is_maintenance:
            if not (self.scheduled_for and self.scheduled_until):
                raise ValidationError("A maintenance needs a start and an end.")
            if self.scheduled_until <= self.scheduled_for:
                raise ValidationError("The maintenance window must end after it starts.")


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    code = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    status = models.CharField(max_length=16)
    body = models.TextField(max_length=5000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    display_at = models.DateTimeField(default=timezone.now)
    affected_components = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-display_at", "-pk"]


class IncidentFollower(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_incidents")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "user"], name="health_follow_once")]


class StatusFollower(models.Model):
    """A signed-in user who follows the whole status page: every published incident and its updates notify them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="status_follow")
    created_at = models.DateTimeField(default=timezone.now)


def default_topics() -> list[str]:
    return ["status"]
class StatusSubscriber(models.Model):
    """Anyone's e-mail subscription to the status page (no wallet needed), per component or all of them.

    Double opt-in: a request (`requested_*`, numbered `request_no`) changes nothing until the link mailed for it is
    opened; then its components become the subscription's. An account's own subscription (`user`) needs no link:
    its address is verified already."""

    email = models.EmailField(max_length=254, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="status_subscriptions"
    )
    all_components = models.BooleanField(default=True)
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    requested_all = models.BooleanField(default=True)
    requested_components = models.JSONField(default=list, blank=True)  # component ids
    request_no = models.PositiveIntegerField(default=0)
    confirmed_request_no = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None


class Webhook(models.Model):
    """An operator's endpoint: the events of its `topics` (status: incidents, maintenance and component changes;
    governance: proposals and votes; feedback: post status changes) are POSTed to it as JSON, signed with
    HMAC-SHA256 of the body under `secret` (header `X-Portal-Signature-256: sha256=<hex>`)."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=new_secret)
    description = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)
    topics = models.JSONField(default=default_topics, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    body = models.TextField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
