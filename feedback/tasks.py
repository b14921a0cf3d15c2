"""Periodic jobs of the feedback app: thin, idempotent (run twice → nothing twice)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from servicedesk.tasks import desk_task

from . import services


@desk_task("feedback.survey_reminders")
def survey_reminders() -> int:
    """The one reminder of unanswered surveys."""
    return services.surveys_remind_due()


@desk_task("feedback.sample_return_visits")
def sample_return_visits() -> int:
    """Yesterday's closed tickets into the return-visit queue (once per day)."""
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    end = datetime.combine(today, time.min, tzinfo=tz)
    return services.return_visits_sample(
        start=end - timedelta(days=1), end=end, period=(today - timedelta(days=1)).isoformat()
    )


@desk_task("feedback.sample_inspections")
def sample_inspections() -> int:
    """Last week's inspection sample per agent (once per week)."""
    return services.inspection_sample_week(week=timezone.localdate() - timedelta(days=7))
