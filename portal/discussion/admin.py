"""Admins configure categories here; moderators work in the review queue, not in the Django admin."""

from django.contrib import admin

from .models import Category, ModerationAction


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position", "staff_only", "listed")
    list_editable = ("position", "staff_only", "listed")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    list_display = ("created", "kind", "moderator", "target_user", "thread", "note")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):  # the log is append-only
        return False

    def has_delete_permission(self, request, obj=None):
        return False
