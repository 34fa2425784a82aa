"""Operators configure components, checks (including on-chain metrics) and webhooks here; failed deliveries show."""

from django.contrib import admin
from django.db import models
from django.db.models import Count, Q

from .models import (
    Check,
    Component,
    ComponentGroup,
    Incident,
    IncidentUpdate,
    StatusFollower,
    Webhook,
    WebhookDelivery,
)


class CheckInline(admin.TabularInline):
    model = Check
    extra = 0
    fields = ("name", "slug", "kind", "unit", "interval_seconds", "direction", "degraded_at", "partial_at", "major_at",
              "consecutive", "enabled", "config", "status", "last_value", "last_error")
    readonly_fields = ("status", "last_value", "last_error")


@admin.register(ComponentGroup)
class ComponentGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "position")


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ("name", "group", "status", "status_since", "position")
    list_filter = ("group", "status")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("code", "status", "status_since")
    inlines = [CheckInline]


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ("name", "component", "kind", "status", "last_value", "unit", "last_run_at", "enabled")
    list_filter = ("kind", "status", "enabled", "component")
    readonly_fields = ("status", "pending_status", "pending_count", "last_value", "last_error", "last_run_at")
    fieldsets = (
        (None, {"fields": ("component", "name", "slug", "kind", "unit", "interval_seconds", "enabled", "position")}),
        ("On-chain metric / node", {
            "fields": ("config",),
            "description": 'For a contract view: {"contract": "LendingPool"} or {"address": "0x…"}, '
                           '"signature": "utilization()(uint256)", "args": [], "result_index": 0, "decimals": 16, '
                           '"transform": "value" or "age" (the result is a unix time; the value is its age in seconds).',
        }),
        ("Thresholds", {"fields": ("direction", "degraded_at", "partial_at", "major_at", "consecutive")}),
        ("Last run", {"fields": ("status", "pending_status", "pending_count", "last_value", "last_error", "last_run_at")}),
    )


class IncidentUpdateInline(admin.StackedInline):
    model = IncidentUpdate
    extra = 0
    fields = ("status", "body", "display_at", "author")
    readonly_fields = ("author",)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "impact", "draft", "started_at", "resolved_at")
    list_filter = ("kind", "status", "impact", "draft")
    filter_horizontal = ("components",)
    readonly_fields = ("code",)
    inlines = [IncidentUpdateInline]


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = ("event", "state", "attempts", "last_status_code", "last_error", "next_attempt_at", "created_at")
    readonly_fields = fields
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at")


@admin.register(StatusFollower)
class StatusFollowerAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("url", "description", "active", "failed_deliveries", "pending_deliveries")
    readonly_fields = ("created_at",)
    inlines = [DeliveryInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            failed=Count("deliveries", filter=Q(deliveries__state="failed")),
            pending=Count("deliveries", filter=Q(deliveries__state="pending", deliveries__attempts__gt=0)),
        )

    @admin.display(description="failed", ordering="failed")
    def failed_deliveries(self, obj):
        return obj.failed

    @admin.display(description="retrying", ordering="pending")
    def pending_deliveries(self, obj):
        return obj.pending


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("webhook", "event", "state", "attempts", "last_status_code", "last_error", "created_at")
    list_filter = ("state", "event", "webhook")
    readonly_fields = ("webhook", "event", "body", "state", "attempts", "next_attempt_at", "last_status_code",
                       "last_error", "created_at", "delivered_at")
