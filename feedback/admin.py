"""Admin of the feedback app: survey reasons, return-visit rules and scorecards are configured
here; ratings, surveys, visits and inspections are read-only (services write them)."""

from django.contrib import admin

from .models import (
    Appeal,
    Inspection,
    Rating,
    ReturnVisit,
    ReturnVisitRule,
    Scorecard,
    ScorecardItem,
    Survey,
    SurveyReason,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Rating)
class RatingAdmin(ReadOnly):
    """Only the requester gives a rating (portal or survey link)."""

    list_display = ("ticket", "score", "rated_by", "via_link", "created_at")
    list_filter = ("score", "via_link")
    raw_id_fields = ("ticket",)


@admin.register(Survey)
class SurveyAdmin(ReadOnly):
    list_display = ("ticket", "recipient", "created_at", "reminded_at", "answered_at", "expires_at")
    raw_id_fields = ("ticket",)
    exclude = ("token_hash", "reminder_token_hash")


@admin.register(SurveyReason)
class SurveyReasonAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh", "position", "is_active")
    list_editable = ("position", "is_active")


@admin.register(ReturnVisitRule)
class ReturnVisitRuleAdmin(admin.ModelAdmin):
    list_display = ("team", "percentage", "all_complaints", "all_p1", "all_low_scores", "is_active")


@admin.register(ReturnVisit)
class ReturnVisitAdmin(ReadOnly):
    list_display = ("ticket", "reason", "status", "team", "agent", "attempts", "satisfied")
    list_filter = ("status", "reason")
    raw_id_fields = ("ticket", "follow_up_ticket")


class ScorecardItemInline(admin.TabularInline):
    model = ScorecardItem
    extra = 1


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    """A version that has scored an inspection is frozen: add a new version to change it."""

    list_display = ("name", "version", "is_active", "created_at")
    inlines = [ScorecardItemInline]

    def _used(self, obj) -> bool:
        return obj is not None and Inspection.objects.filter(scorecard=obj).exists()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._used(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._used(obj)


@admin.register(Inspection)
class InspectionAdmin(ReadOnly):
    list_display = ("ticket", "agent", "team", "week", "status", "score", "inspector")
    list_filter = ("status", "source", "week")
    raw_id_fields = ("ticket",)


@admin.register(Appeal)
class AppealAdmin(ReadOnly):
    list_display = ("inspection", "created_by", "decision", "decided_by", "decided_at")
    list_filter = ("decision",)
