"""Delivery tasks, on their own `delivery` queue: thin and idempotent (a row is sent once)."""

from __future__ import annotations

from servicedesk.tasks import desk_task

from . import delivery, services


@desk_task("notifications.deliver_batch", soft_time_limit=240, time_limit=300)
def deliver_batch(notification_ids: list[int]) -> dict:
    """First delivery of a batch, row by row; a row that fails waits for its backoff and is
    sent again by `deliver_due`."""
    retrying = delivery.notifications_deliver(notification_ids=notification_ids)
    return {"handled": len(notification_ids), "retrying": retrying}


@desk_task("notifications.deliver_due", soft_time_limit=60, time_limit=90)
def deliver_due() -> int:
    """Beat, every minute: rows whose backoff ended, and rows whose first delivery message was
    lost (the broker was down when they were stored, a worker died), sent in batches."""
    ids = delivery.due_ids()
    for start in range(0, len(ids), services.DELIVERY_CHUNK):
        deliver_batch.delay(ids[start : start + services.DELIVERY_CHUNK])
    return len(ids)


@desk_task("notifications.unassigned_reminders", soft_time_limit=60, time_limit=90)
def unassigned_reminders() -> int:
    """Beat, every five minutes: the leads of teams whose queue holds a ticket nobody took
    for longer than `UNASSIGNED_ALERT_MINUTES` are told, once per ticket and queueing."""
    return services.notify_unassigned_too_long()
