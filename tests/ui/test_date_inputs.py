"""<input type=date> needs yyyy-mm-dd whatever the language: in Chinese a localised value
(2026/11/07) left the manager's date filters blank."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from feedback.forms import PeriodForm as FeedbackPeriodForm
from reports.forms import ReportFilterForm
from sla.forms import PeriodForm


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form_class", "field"),
    [
        (PeriodForm, "date_from"),
        (ReportFilterForm, "date_from"),
        (FeedbackPeriodForm, "start"),
    ],
)
def test_date_inputs_carry_iso_dates_in_chinese(form_class, field):
    with translation.override("zh-hans"):
        html = str(form_class(initial={field: date(2026, 11, 7)})[field])
    assert 'type="date"' in html
    assert 'value="2026-11-07"' in html
