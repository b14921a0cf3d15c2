"""Forms of the feedback pages. They only shape input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from servicedesk.ui import StyledForm

from .choices import FollowUp, Score
from .models import Inspection


class SurveyForm(StyledForm):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the service?"),
        choices=Score.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    reasons = forms.MultipleChoiceField(
        label=_("What mattered most? (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )

    def __init__(self, *args, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [(r.code, r.label) for r in reasons]


class VisitForm(StyledForm):
    reached = forms.TypedChoiceField(
        label=_("Reached the requester?"),
        choices=[("1", _("Reached")), ("0", _("Not reached – call again later"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    satisfied = forms.TypedChoiceField(
        label=_("Satisfied?"),
        choices=[("", "—"), ("1", _("Satisfied")), ("0", _("Not satisfied"))],
        coerce=lambda v: v == "1",
        empty_value=None,
        required=False,
    )
    words = forms.CharField(
        label=_("The requester's words"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    follow_up = forms.ChoiceField(label=_("Follow-up"), choices=FollowUp.choices)


class ScoreForm(StyledForm):
    """One 0–100 % mark per scorecard item, and a comment."""

    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )

    def __init__(self, *args, inspection: Inspection, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(inspection.scorecard.items.all())
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.IntegerField(
                label=f"{item.label} (× {item.weight})",
                min_value=0,
                max_value=100,
                widget=forms.NumberInput(attrs={"class": "form-control", "step": 5}),
            )

    def marks(self) -> dict[int, int]:
        return {item.pk: self.cleaned_data[f"item_{item.pk}"] for item in self.items}


class AppealForm(StyledForm):
    reason = forms.CharField(
        label=_("Why the score is wrong"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class DecisionForm(StyledForm):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Uphold: revise the score")), ("0", _("Reject: the score stands"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    revised_score = forms.DecimalField(
        label=_("Revised score"), min_value=0, max_value=100, decimal_places=2, required=False
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000
    )


class PeriodForm(forms.Form):
    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
