"""Choices of the incidents app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentStatus(models.TextChoices):
    DECLARED = "declared", _("Declared")
    ANNOUNCED = "announced", _("Outage announced")
    RECOVERED = "recovered", _("Recovered")


class ServiceState(models.TextChoices):
    """How a system looks on the status page."""

    OPERATIONAL = "operational", _("Operational")
    DEGRADED = "degraded", _("Degraded")
    OUTAGE = "outage", _("Outage")


class UpdateKind(models.TextChoices):
    DECLARED = "declared", _("Declared")
    PROGRESS = "progress", _("Progress update")
    OUTAGE = "outage", _("Outage announcement")
    RECOVERY = "recovery", _("Recovery announcement")
