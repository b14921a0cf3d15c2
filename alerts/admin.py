from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .forms import MappingRuleForm
from .models import Alert, Delivery, Integration, MappingRule


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "slug", "token_hint", "auto_resolve", "is_active"]
    readonly_fields = ["token_hint", "user", "created_at"]
    exclude = ["token_hash"]
    actions = ["rotate_token"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        integration, token = services.integration_create(
            actor=request.user, name=obj.name, kind=obj.kind, slug=obj.slug,
            auto_resolve=obj.auto_resolve, storm_threshold=obj.storm_threshold,
            tickets_per_minute=obj.tickets_per_minute,
        )  # fmt: skip
        obj.pk = integration.pk
        self.message_user(
            request,
            _("Bearer token of %(name)s (shown once): %(token)s")
            % {"name": integration.name, "token": token},
            messages.WARNING,
        )

    @admin.action(description=_("Rotate the bearer token"))
    def rotate_token(self, request, queryset):
        for integration in queryset:
            token = services.integration_rotate_token(
                actor=request.user, integration_id=integration.pk
            )
            self.message_user(
                request,
                _("New bearer token of %(name)s (shown once): %(token)s")
                % {"name": integration.name, "token": token},
                messages.WARNING,
            )


@admin.register(MappingRule)
class MappingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "integration", "system", "team", "impact", "is_active"]
    list_editable = ["order", "is_active"]
    form = MappingRuleForm

    def save_model(self, request, obj, form, change):
        services.mapping_rule_save(actor=request.user, rule=obj)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["alertname", "severity", "status", "outcome", "count", "ticket", "starts_at"]
    list_filter = ["status", "outcome", "integration"]
    search_fields = ["fingerprint", "alertname"]
    raw_id_fields = ["ticket", "group"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["integration", "received_at", "alert_count", "truncated_alerts", "status"]
    list_filter = ["integration"]
