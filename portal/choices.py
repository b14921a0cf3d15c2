"""Choices of the portal's models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AnnouncementKind(models.TextChoices):
    FAULT = "fault", _("Fault")
    RECOVERY = "recovery", _("Recovery")
    NOTICE = "notice", _("Notice")


class Score(models.IntegerChoices):
    VERY_POOR = 1, _("1 – very dissatisfied")
    POOR = 2, _("2 – dissatisfied")
    FAIR = 3, _("3 – neutral")
    GOOD = 4, _("4 – satisfied")
    EXCELLENT = 5, _("5 – very satisfied")
