"""Choices for the catalogue."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Flow(models.TextChoices):
    """The handling flow a request type follows through the back office (PRODUCT.md §5)."""

    CONSULTATION = "consultation", _("Consultation flow")
    DEFECT = "defect", _("Defect flow")
    FAULT = "fault", _("Fault flow")
    ACCOUNT = "account", _("Account flow")
    DATA = "data", _("Data flow")
    CHANGE = "change", _("Change flow")
    COMPLAINT = "complaint", _("Complaint flow")
