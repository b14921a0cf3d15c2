from django.contrib import admin

from .models import Announcement, Rating


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "system", "published_at", "ended_at")
    list_filter = ("kind",)
    search_fields = ("title", "body")


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    """Ratings are read-only here: only the requester gives one, through the portal."""

    list_display = ("ticket", "score", "rated_by", "created_at")
    list_filter = ("score",)
    raw_id_fields = ("ticket",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
