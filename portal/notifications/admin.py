from django.contrib import admin

from .models import MutedVerb, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "verb", "text", "created", "read_at"]
    list_filter = ["verb"]
    raw_id_fields = ["recipient", "actor"]


@admin.register(MutedVerb)
class MutedVerbAdmin(admin.ModelAdmin):
    list_display = ["user", "verb"]
