from django.contrib import admin

from .models import Mail, Notification, Preference, Suppression


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "verb", "text", "created", "read_at"]
    list_filter = ["verb"]
    raw_id_fields = ["recipient", "actor"]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "in_app", "email"]
    list_filter = ["kind", "email"]
    raw_id_fields = ["user"]


@admin.register(Mail)
class MailAdmin(admin.ModelAdmin):
    list_display = ["key", "to", "subject", "state", "attempts", "created", "sent_at"]
    list_filter = ["state"]
    search_fields = ["to", "key"]
    readonly_fields = [f.name for f in Mail._meta.fields]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created"]
    search_fields = ["email"]
