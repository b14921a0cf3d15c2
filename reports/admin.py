from django.contrib import admin

from .models import Release, RepeatedProblem, Spike


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("released_on", "system", "version")
    list_filter = ("system",)
    search_fields = ("version", "notes")
    autocomplete_fields: tuple = ()
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Spike)
class SpikeAdmin(admin.ModelAdmin):
    list_display = ("day", "request_type", "system", "count", "baseline", "score", "release")
    list_filter = ("request_type", "system")
    readonly_fields = [f.name for f in Spike._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(RepeatedProblem)
class RepeatedProblemAdmin(admin.ModelAdmin):
    list_display = ("period_days", "rank", "title", "count", "previous_count", "computed_at")
    readonly_fields = [f.name for f in RepeatedProblem._meta.fields]

    def has_add_permission(self, request):
        return False
