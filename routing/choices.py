"""Choices of classification and routing."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Target(models.TextChoices):
    """What a classifier model (and a training example) predicts."""

    REQUEST_TYPE = "request_type", _("Request type")
    CATEGORY = "category", _("Category")
    TEAM = "team", _("Team")


class ExampleSource(models.TextChoices):
    """Where a labelled training example comes from."""

    AGENT_CORRECTION = "agent_correction", _("Agent correction")
    CLOSED_TICKET = "closed_ticket", _("Closed ticket")
    SEED = "seed", _("Built-in seed example")
