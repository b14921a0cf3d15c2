"""Periodic jobs of the reports: thin, idempotent, started by beat."""

from __future__ import annotations

from servicedesk.tasks import desk_task


@desk_task("reports.refresh_rollups", soft_time_limit=240, time_limit=300)
def refresh_rollups() -> dict:
    """Bring the facts and rollups up to the operation log (reports.rollups)."""
    from .rollups import rollup_refresh

    result = rollup_refresh()
    return {"tickets": result.tickets, "days": result.days}


@desk_task("reports.detect_spikes")
def detect_spikes() -> int:
    from .spikes import detect_spikes as detect

    return len(detect())


@desk_task("reports.repeated_problems", soft_time_limit=600, time_limit=660)
def repeated_problems() -> dict:
    from .problems import repeated_problems_refresh

    return repeated_problems_refresh()


@desk_task("reports.weekly_summary")
def weekly_summary() -> int:
    from .notify import notify_weekly_summary

    return len(notify_weekly_summary())
