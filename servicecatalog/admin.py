"""The form builder: administrators build a service's form in the admin (fields inline, no
code), map it to type / category / system / team / SLA, and retire it with an action."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import Service, ServiceField, ServiceGroup, ServiceRequest
from .services import service_retire


class ServiceFieldInline(admin.TabularInline):
    model = ServiceField
    extra = 1
    fields = (
        "position",
        "key",
        "name",
        "name_zh",
        "kind",
        "required",
        "choices",
        "show_if",
        "show_if_value",
        "help_text",
        "help_text_zh",
    )


@admin.register(ServiceGroup)
class ServiceGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "position")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "group", "request_type", "team", "is_active")
    list_filter = ("is_active", "group", "is_data_service")
    search_fields = ("code", "name", "name_zh", "keywords")
    inlines = [ServiceFieldInline]
    actions = ["retire"]
    readonly_fields = ("retired_at",)

    @admin.action(description=_("Retire the selected services"))
    def retire(self, request, queryset):
        for service in queryset:
            service_retire(service_id=service.pk, actor=request.user)
        messages.success(request, _("Retired: they left the catalogue."))


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ("ticket", "service", "by_agent", "created_at")
    raw_id_fields = ("ticket",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
