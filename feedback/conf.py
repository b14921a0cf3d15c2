"""The feedback app's settings, read from `settings.FEEDBACK` with defaults."""

from django.conf import settings

DEFAULTS = {
    "SURVEY_EXPIRY_DAYS": 14,
    "SURVEY_REMINDER_AFTER_DAYS": 3,
    "LOW_SCORE": 2,
    "INSPECTIONS_PER_AGENT_PER_WEEK": 3,
}


def setting(name: str):
    return getattr(settings, "FEEDBACK", {}).get(name, DEFAULTS[name])
