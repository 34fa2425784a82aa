from django.contrib import admin

from governance.models import Proposal, ProposalEvent, ProposalTally, Vote


class ProposalEventInline(admin.TabularInline):
    model = ProposalEvent
    extra = 0
    readonly_fields = ("kind", "actor", "actor_label", "at", "note")
    can_delete = False


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    """Read-mostly: cancel and execute from the proposal page, where the services log who and why."""

    list_display = ("label", "title", "voting_type", "category", "start", "end", "state")
    list_filter = ("voting_type", "category")
    search_fields = ("title", "author_address")
    readonly_fields = ("number", "snapshot_block", "snapshot_time", "strategies", "quorum", "activated_at",
                       "cancelled_at", "executed_at", "execution_tx", "close_recorded_at")
    inlines = [ProposalEventInline]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("proposal", "voter", "choice", "weight", "created")
    search_fields = ("voter", "receipt")
    list_select_related = ("proposal",)
    readonly_fields = [f.name for f in Vote._meta.fields]

    def has_add_permission(self, request):
        return False  # votes are signed by voters, never typed in


admin.site.register(ProposalTally)
