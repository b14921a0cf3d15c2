from django.contrib import admin

from .models import Notification, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "team", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "url")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by services and delivered by tasks."""

    list_display = ("id", "channel", "recipient", "target", "subject", "status", "attempts")
    list_filter = ("channel", "status")
    search_fields = ("subject", "target", "dedupe_key")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
