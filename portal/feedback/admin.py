from django.contrib import admin

from .models import Post, StatusChange, Tag, Vote


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Tags are staff-managed: created and renamed here, picked by posters."""

    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    readonly_fields = ["from_status", "to_status", "note", "by", "created"]
    can_delete = False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "status", "vote_count", "author", "created"]
    list_filter = ["kind", "status", "tags"]
    search_fields = ["title", "body"]
    raw_id_fields = ["author", "duplicate_of", "thread", "claimed_by", "answered_by"]
    # Votes, statuses and merges go through the services (notifications, counts): read-only here.
    readonly_fields = ["vote_count", "status", "status_note", "duplicate_of", "proposal_number"]
    filter_horizontal = ["tags"]
    inlines = [StatusChangeInline]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["post", "user", "created"]
    raw_id_fields = ["post", "user"]
