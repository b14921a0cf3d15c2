"""Choices of the alerts app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IntegrationKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    GRAFANA = "grafana", _("Grafana alerting")
    WEBHOOK = "webhook", _("Signed JSON webhook (monitor)")
    CHATBOT = "chatbot", _("Signed JSON webhook (chat bot)")


class AlertStatus(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")


class NewOccurrencePolicy(models.TextChoices):
    """What a new `startsAt` of a fingerprint that already had a ticket does."""

    NEW_TICKET = "new_ticket", _("Open a new ticket")
    REOPEN = "reopen", _("Reopen (or keep) the previous ticket")


class AlertOutcome(models.TextChoices):
    """What the desk did with one alert of a delivery."""

    OPENED = "opened", _("Opened a ticket")
    REPEATED = "repeated", _("Repeat of a known alert")
    REOPENED = "reopened", _("Back on its previous ticket")
    RESOLVED = "resolved", _("Recovery recorded")
    AUTO_RESOLVED = "auto_resolved", _("Recovery recorded; ticket resolved")
    STORM = "storm", _("Held on the storm ticket")
    ORPHAN_RESOLVED = "orphan_resolved", _("Recovery of an alert never seen firing")


# Alert severity label → ticket urgency (tickets.choices.Urgency: 1 critical … 4 low). Impact
# comes from the mapping rule (the system's importance), so P1 needs both.
SEVERITY_URGENCY = {
    "critical": 1,
    "disaster": 1,
    "page": 1,
    "high": 2,
    "error": 2,
    "major": 2,
    "warning": 3,
    "minor": 3,
    "average": 3,
    "info": 4,
    "informational": 4,
    "none": 4,
}
DEFAULT_URGENCY = 3
