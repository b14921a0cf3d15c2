from django.contrib import admin

from .models import Announcement


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "system", "published_at", "ended_at")
    list_filter = ("kind",)
    search_fields = ("title", "body")
