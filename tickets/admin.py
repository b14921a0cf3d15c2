from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Attachment, Comment, ReactionRetry, Ticket, TicketEvent
from .retries import reaction_retry_now


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only here: tickets change through the workspace and the API (the services)."""

    list_display = (
        "number",
        "title",
        "status",
        "priority",
        "tier",
        "team",
        "assignee",
        "created_at",
    )
    list_filter = ("status", "priority", "tier", "channel")
    search_fields = ("number", "title")
    list_select_related = ("team", "assignee")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ("ticket", "kind", "actor", "actor_kind", "created_at")
    list_filter = ("kind", "actor_kind")
    raw_id_fields = ("ticket", "actor")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(Comment)
admin.site.register(Attachment)


@admin.register(ReactionRetry)
class ReactionRetryAdmin(admin.ModelAdmin):
    """The dead-letter list of reactions: what failed, why, and a way to try again."""

    list_display = ("id", "event", "reaction", "ticket", "state", "attempts", "next_attempt_at")
    list_filter = ("state", "event")
    search_fields = ("reaction", "ticket__number", "last_error")
    list_select_related = ("ticket",)
    readonly_fields = [field.name for field in ReactionRetry._meta.fields]
    actions = ["retry_now"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry now"), permissions=["view"])
    def retry_now(self, request, queryset):
        count = reaction_retry_now(retry_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)d failed reaction will be retried now.",
                "%(count)d failed reactions will be retried now.",
                count,
            )
            % {"count": count},
        )
