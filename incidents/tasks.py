"""Background jobs of the incidents app."""

from __future__ import annotations

from django.utils import timezone

from portal.models import Announcement
from servicedesk.tasks import desk_task

from .choices import IncidentStatus, UpdateKind


@desk_task("incidents.end_stale_outage_banners")
def end_stale_outage_banners() -> int:
    """End any outage announcement still on show for an incident that has recovered (e.g.
    one published by hand in the admin after the recovery). Idempotent."""
    return Announcement.objects.filter(
        incident_announcement__kind=UpdateKind.OUTAGE,
        incident_announcement__incident__status=IncidentStatus.RECOVERED,
        ended_at__isnull=True,
    ).update(ended_at=timezone.now())
