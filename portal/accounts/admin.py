from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Sanction, User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Portal", {"fields": ("display_name",)}),)
    list_display = ("username", "display_name", "is_staff", "date_joined")


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "starts", "ends", "lifted", "moderator")
    list_filter = ("kind",)
    raw_id_fields = ("user", "moderator")
