"""Choices of the SLA engine."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    """What a timer measures (PRODUCT.md §6)."""

    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")
    PROGRESS_UPDATE = "progress_update", _("Progress update")


# Only these metrics escalate on breach; an overdue progress update is a reminder.
ESCALATING_METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)


class TimerState(models.TextChoices):
    """The life of a timer row. "Warned" and "breached" are markers (`warned_at`,
    `breached_at`), not states: a breached clock still runs, can pause and can be met late."""

    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    STOPPED = "stopped", _("Stopped")


ACTIVE_TIMER_STATES = (TimerState.RUNNING, TimerState.PAUSED)


class SummaryFlag(models.TextChoices):
    """How a ticket's active clocks stand on the dashboard (`SlaTicketSummary`): a clock
    breached, or a clock warned and none breached. Tickets whose clocks are neither have no
    summary row."""

    BREACHED = "breached", _("Breached")
    AT_RISK = "at_risk", _("At risk")


class BadgeState(models.TextChoices):
    """What a screen shows for a timer (derived from state and markers)."""

    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    WARNED = "warned", _("At risk")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Met")


class Level(models.TextChoices):
    """The sweep's levels: each is handled exactly once per timer (per escalation step)."""

    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")
    ESCALATION = "escalation", _("Escalation step")


class CalendarDateKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday (closed)")
    WORKDAY = "workday", _("Make-up working day (调休)")
