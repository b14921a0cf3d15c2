from django.contrib import admin

from .models import Attachment, Comment, Ticket, TicketEvent


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
