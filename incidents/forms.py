"""Forms of the incident pages. They only shape input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from catalog.models import InformationSystem, SystemModule
from servicedesk.ui import StyledForm
from tickets.choices import Impact

from .choices import ServiceState


class LabelChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class DeclareForm(StyledForm):
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    description = forms.CharField(
        label=_("What is known"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    systems = LabelChoice(
        label=_("Affected systems"), queryset=InformationSystem.objects.filter(is_active=True)
    )
    modules = LabelChoice(
        label=_("Affected modules"),
        queryset=SystemModule.objects.filter(is_active=True).select_related("system"),
        required=False,
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"), choices=Impact.choices, coerce=int, initial=Impact.EXTENSIVE
    )
    service_state = forms.ChoiceField(
        label=_("Service state"),
        choices=[
            (ServiceState.OUTAGE, ServiceState.OUTAGE.label),
            (ServiceState.DEGRADED, ServiceState.DEGRADED.label),
        ],
    )
    lead = forms.ModelChoiceField(
        label=_("Lead"),
        queryset=User.objects.filter(is_active=True)
        .filter(groups__permissions__codename="manage_incidents")
        .distinct()
        .order_by("username"),
        required=False,
    )
    ticket = forms.CharField(
        label=_("From ticket (number)"),
        max_length=32,
        required=False,
        help_text=_("Empty: a new fault ticket is opened for the incident."),
    )


class LinkForm(forms.Form):
    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tickets"].choices = [(c, c) for c in choices]


class TwoLanguageTextForm(StyledForm):
    body_zh = forms.CharField(
        label=_("Text (Chinese)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    body_en = forms.CharField(
        label=_("Text (English)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class AnnounceForm(TwoLanguageTextForm):
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    field_order = ["title_zh", "title_en", "body_zh", "body_en"]


class RecoverForm(AnnounceForm):
    resolution = forms.CharField(
        label=_("Resolution (sent with each linked ticket)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field_order = ["title_zh", "title_en", "body_zh", "body_en", "resolution"]


class AffectedForm(forms.Form):
    description = forms.CharField(
        label=_("Anything to add (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )
