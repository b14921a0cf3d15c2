from django.contrib import admin

from .models import IncidentAnnouncement, IncidentUpdate, MajorIncident


@admin.register(MajorIncident)
class MajorIncidentAdmin(admin.ModelAdmin):
    """Read-mostly: incidents are run from the workspace pages (their services)."""

    list_display = ["__str__", "ticket", "status", "service_state", "declared_at", "recovered_at"]
    list_filter = ["status"]
    raw_id_fields = ["ticket"]
    readonly_fields = ["status"]


@admin.register(IncidentUpdate)
class IncidentUpdateAdmin(admin.ModelAdmin):
    list_display = ["incident", "kind", "created_at", "notified"]


@admin.register(IncidentAnnouncement)
class IncidentAnnouncementAdmin(admin.ModelAdmin):
    list_display = ["incident", "kind", "title_zh", "title_en", "created_at"]
