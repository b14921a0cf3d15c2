"""Choices of the reports app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.IntegerChoices):
    """How one SLA metric of a ticket ended (all its clocks of that metric together)."""

    UNDECIDED = 0, _("Undecided")
    MET = 1, _("Met")
    BREACHED = 2, _("Breached")


class Grain(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    DAY = "day", _("Day")


class Preset(models.TextChoices):
    LAST_7 = "7d", _("Last 7 days")
    LAST_30 = "30d", _("Last 30 days")
    LAST_90 = "90d", _("Last 90 days")
    THIS_MONTH = "month", _("This month")
    LAST_MONTH = "last_month", _("Last month")
    CUSTOM = "custom", _("Custom")
