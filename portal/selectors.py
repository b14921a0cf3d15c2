"""Reads of the portal."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from feedback.selectors import rating_for  # noqa: F401  (ratings live in feedback)

from .models import Announcement


def announcements_current(*, limit: int = 5) -> QuerySet[Announcement]:
    """Announcements on show now: published, not yet ended, newest first."""
    now = timezone.now()
    return (
        Announcement.objects.filter(published_at__lte=now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now))
        .select_related("system")
        .order_by("-published_at")[:limit]
    )
