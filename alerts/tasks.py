"""Background jobs of the alerts app."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from servicedesk.tasks import desk_task

from .models import AlertGroup, Delivery

DELIVERY_RETENTION = timedelta(days=30)
GROUP_QUIET = timedelta(hours=6)


@desk_task("alerts.prune")
def prune() -> dict[str, int]:
    """Forget delivery records after 30 days, and reset the count of groups quiet for six
    hours (so the next burst of a group is judged afresh by storm control). Idempotent: a
    second run finds nothing to do."""
    now = timezone.now()
    deleted, _ = Delivery.objects.filter(received_at__lt=now - DELIVERY_RETENTION).delete()
    reset = AlertGroup.objects.filter(last_seen_at__lt=now - GROUP_QUIET, alert_count__gt=0).update(
        alert_count=0, storm_ticket=None
    )
    return {"deliveries": deleted, "groups": reset}
