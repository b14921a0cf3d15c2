from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .kinds import KINDS
from .models import Notification, NotificationPreference, NotificationRule, WebhookEndpoint
from .services import notification_send_again, rules_changed


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "team", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "url")


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    """Which event tells whom on which channels: whom is the kind's, the channels are yours."""

    list_display = ("kind", "audience", "enabled", "inbox", "email", "webhook")
    list_editable = ("enabled", "inbox", "email", "webhook")
    search_fields = ("kind",)

    @admin.display(description=_("who is told"))
    def audience(self, obj: NotificationRule) -> str:
        kind = KINDS.get(obj.kind)
        return str(kind.audience) if kind else "—"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rules_changed()


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "inbox", "email")
    search_fields = ("user__username", "kind")
    raw_id_fields = ("user",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by services and delivered by tasks. Failed
    e-mails and webhooks (parked after their last attempt) can be sent again."""

    list_display = (
        "id",
        "channel",
        "recipient",
        "target",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
    )
    list_filter = ("status", "channel", "kind")
    search_fields = ("subject", "target", "dedupe_key", "kind")
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["send_again"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Send again now"), permissions=["view"])
    def send_again(self, request, queryset):
        count = notification_send_again(
            notification_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d notification will be sent again.",
                "%(count)d notifications will be sent again.",
                count,
            )
            % {"count": count},
        )
