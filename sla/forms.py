"""Forms of the SLA screens."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_PERIOD_DAYS = 366


class PeriodForm(forms.Form):
    """The dashboard's period: from and to dates (inclusive), at most a year."""

    # <input type=date> takes yyyy-mm-dd whatever the language; a localised value (2026/11/07
    # in Chinese) leaves it blank.
    date_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    @staticmethod
    def default_initial() -> dict:
        today = timezone.localdate()
        return {"date_from": today - timedelta(days=29), "date_to": today}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("The end is before the start."))
            elif (end - start).days >= MAX_PERIOD_DAYS:
                self.add_error("date_to", _("Choose a period of at most a year."))
        return cleaned
