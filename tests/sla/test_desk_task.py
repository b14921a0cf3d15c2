"""The project's task decorator: every job acks late, has a stable name and time limits."""

from __future__ import annotations

import pytest

from notifications.tasks import deliver_batch, deliver_due
from servicedesk.tasks import desk_task
from sla.tasks import process_timers, sweep


def test_sla_and_notification_tasks_are_declared_safely():
    for task, name in (
        (sweep, "sla.sweep"),
        (process_timers, "sla.process_timers"),
        (deliver_batch, "notifications.deliver_batch"),
        (deliver_due, "notifications.deliver_due"),
    ):
        assert task.name == name
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert 0 < task.soft_time_limit < task.time_limit
    # Deliveries run on their own queue, so a hung mail server never delays the sweep.
    from django.conf import settings

    assert settings.CELERY_TASK_ROUTES == {
        "notifications.*": {"queue": "delivery"},
        "mailin.*": {"queue": "delivery"},
    }


def test_desk_task_refuses_unstable_names_and_bad_limits():
    with pytest.raises(ValueError):
        desk_task("sweep")
    with pytest.raises(ValueError):
        desk_task("sla.x", soft_time_limit=60, time_limit=60)
