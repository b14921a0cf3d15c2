"""Choices for people and teams."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of PRODUCT.md §1; each is a Django group of the same name."""

    REQUESTER = "requester", _("Requester")
    FRONT_TIER1 = "front_tier1", _("Front office, tier 1")
    FRONT_TIER2 = "front_tier2", _("Front office, tier 2")
    MIDDLE_EXPERT = "middle_expert", _("Middle-office expert")
    BACK_ENGINEER = "back_engineer", _("Back-office engineer")
    QA_INSPECTOR = "qa_inspector", _("QA inspector")
    MANAGER = "manager", _("Manager")
    ADMINISTRATOR = "administrator", _("Administrator")


class Tier(models.TextChoices):
    """Where in the front / middle / back-office model a team (and a ticket) stands."""

    FRONT = "front", _("Front office")
    MIDDLE = "middle", _("Middle office")
    BACK = "back", _("Back office")


class AssignmentStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILL = "skill", _("Skill based")
    MANUAL = "manual", _("Manual (nobody is assigned automatically)")


class UnitKind(models.TextChoices):
    GROUP = "group", _("Group company")
    COMPANY = "company", _("Subsidiary")
    DEPARTMENT = "department", _("Department")
