"""The SLA engine's Celery jobs: thin (ids in, a service does the work), safe to repeat.

Beat runs `sla.sweep` every `SLA["SWEEP_SECONDS"]` (60 by default): it selects due timer ids
through the partial indexes and fans them out in chunks to `sla.process_timers`, where each row
is locked, re-checked and marked before anything is done, so two sweeps, a task run twice or a
task redelivered after a worker died (acks_late) handle every timer once per level.
"""

from __future__ import annotations

from django.db import OperationalError

from servicedesk.tasks import desk_task

from . import services


def _fan_out(due: dict[str, list[int]]) -> dict[str, int]:
    chunk = services.sweep_chunk_size()
    for level, ids in due.items():
        for start in range(0, len(ids), chunk):
            process_timers.delay(ids[start : start + chunk], str(level))
    return {str(level): len(ids) for level, ids in due.items()}


@desk_task("sla.sweep", soft_time_limit=50, time_limit=60)
def sweep() -> dict[str, int]:
    """Find warnings, breaches and escalation steps due now and fan them out."""
    return _fan_out(services.sla_due_timer_ids())


@desk_task(
    "sla.process_timers",
    soft_time_limit=240,
    time_limit=300,
    # A deadlock or serialisation failure rolls the chunk back whole; running it again is safe.
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=5,
)
def process_timers(timer_ids: list[int], level: str) -> dict[str, int]:
    outcome = services.sla_timers_process(timer_ids=timer_ids, level=level)
    return {"handled": len(outcome.handled), "escalated": len(outcome.escalated)}


@desk_task("sla.progress_reminders", soft_time_limit=50, time_limit=60)
def progress_reminders() -> dict[str, int]:
    """Remind the owners of routine (P3/P4) tickets whose progress update is due or overdue."""
    return _fan_out(services.sla_due_timer_ids(routine_progress=True))
