"""Choices of the feedback app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Score(models.IntegerChoices):
    VERY_POOR = 1, _("1 – very dissatisfied")
    POOR = 2, _("2 – dissatisfied")
    FAIR = 3, _("3 – neutral")
    GOOD = 4, _("4 – satisfied")
    EXCELLENT = 5, _("5 – very satisfied")


class VisitReason(models.TextChoices):
    """Why a closed ticket is in the return-visit queue."""

    SAMPLE = "sample", _("Sampled")
    COMPLAINT = "complaint", _("Complaint")
    P1 = "p1", _("P1 ticket")
    LOW_SCORE = "low_score", _("Low satisfaction score")
    MANUAL = "manual", _("Added by hand")


class VisitStatus(models.TextChoices):
    OPEN = "open", _("To call")
    RETRY = "retry", _("Not reached, call again")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class FollowUp(models.TextChoices):
    NONE = "none", _("None")
    REOPEN = "reopen", _("Reopen the ticket")
    NEW_TICKET = "new_ticket", _("Open a linked complaint ticket")


class InspectionSource(models.TextChoices):
    SAMPLE = "sample", _("Weekly sample")
    ON_DEMAND = "on_demand", _("On demand")


class InspectionStatus(models.TextChoices):
    PENDING = "pending", _("To score")
    SCORED = "scored", _("Scored")
    APPEALED = "appealed", _("Appealed")
    FINAL = "final", _("Final")


class AppealDecision(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    UPHELD = "upheld", _("Upheld: score revised")
    REJECTED = "rejected", _("Rejected: score stands")
