"""Delivery tasks: thin, idempotent (sent rows are never sent again), retried with backoff."""

from __future__ import annotations

from servicedesk.tasks import desk_task

from . import services


class RetryDelivery(Exception):
    """Raised to make Celery retry a failed delivery later (exponential backoff)."""


@desk_task("notifications.deliver_batch", soft_time_limit=60, time_limit=90)
def deliver_batch(notification_ids: list[int]) -> dict:
    """First delivery of a batch; each row that fails gets its own retrying task."""
    failed = services.notifications_deliver(notification_ids=notification_ids)
    for notification_id in failed:
        deliver.apply_async((notification_id,), countdown=deliver.retry_backoff)
    return {"delivered": len(notification_ids) - len(failed), "retrying": failed}


@desk_task(
    "notifications.deliver",
    soft_time_limit=30,
    time_limit=45,
    autoretry_for=(RetryDelivery,),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=services.MAX_ATTEMPTS,
)
def deliver(notification_id: int) -> bool:
    """(Re)deliver one notification; raises RetryDelivery while it should be tried again."""
    if services.notifications_deliver(notification_ids=[notification_id]):
        raise RetryDelivery(notification_id)
    return True


@desk_task("notifications.redeliver_stale", soft_time_limit=60, time_limit=90)
def redeliver_stale() -> int:
    """Deliver rows still pending a while after they were stored (the broker was down when
    they were enqueued, or a worker was lost): beat runs it every ten minutes."""
    ids = services.stale_pending_ids()
    for start in range(0, len(ids), services.DELIVERY_CHUNK):
        deliver_batch.delay(ids[start : start + services.DELIVERY_CHUNK])
    return len(ids)
