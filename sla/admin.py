"""Administration of calendars, SLA/OLA policies and escalation; timers are read-only."""

from django.contrib import admin

from .holidays_admin import HolidayCoverageWarningMixin  # also registers the schedule's admin
from .models import (
    BusinessCalendarConfig,
    CalendarDate,
    EscalationPolicy,
    EscalationStep,
    OlaTarget,
    SlaPolicy,
    SlaTimer,
    TierSpan,
)


class CalendarDateInline(admin.TabularInline):
    model = CalendarDate
    extra = 1


@admin.register(BusinessCalendarConfig)
class BusinessCalendarConfigAdmin(HolidayCoverageWarningMixin, admin.ModelAdmin):
    list_display = ("name", "timezone", "always_open", "use_china_statutory", "updated_at")
    inlines = [CalendarDateInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "priority",
        "request_type",
        "unit",
        "first_response_target",
        "resolution_target",
        "progress_update_target",
        "warn_at_percent",
        "calendar",
        "is_active",
    )
    list_filter = ("priority", "is_active", "calendar")


@admin.register(OlaTarget)
class OlaTargetAdmin(admin.ModelAdmin):
    list_display = ("tier", "priority", "target")


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "priority", "is_active")
    inlines = [EscalationStepInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Timers and stints are written by the SLA services only."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SlaTimer)
class SlaTimerAdmin(ReadOnlyAdmin):
    list_display = (
        "ticket",
        "metric",
        "priority",
        "state",
        "due_at",
        "warned_at",
        "breached_at",
        "met_at",
        "escalation_level",
    )
    list_filter = ("metric", "state", "priority")
    raw_id_fields = ("ticket",)


@admin.register(TierSpan)
class TierSpanAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "tier", "team", "priority", "started_at", "ended_at", "business_time")
    list_filter = ("tier",)
    raw_id_fields = ("ticket",)
