"""Forms of the requester portal. They only shape input; the services decide."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import InformationSystem
from servicedesk.ui import StyledForm
from tickets.forms import ModuleChoiceField, MultipleFileField, module_matches_system
from tickets.models import TITLE_MAX_LENGTH

from .choices import Score


class SystemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class RequestForm(StyledForm):
    # One token per rendered form: a second POST of the same form (a double click, a resend
    # after a slow answer) finds the ticket the first created instead of opening another.
    form_token = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=64, initial=lambda: uuid.uuid4().hex
    )
    title = forms.CharField(
        label=_("Subject"),
        max_length=TITLE_MAX_LENGTH,
        help_text=_("One line: what is wrong or what you need."),
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("What happened, since when, what you already tried, error messages."),
    )
    system = SystemChoiceField(
        label=_("Affected system"),
        queryset=InformationSystem.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("I don't know / not a system"),
    )
    module = ModuleChoiceField(
        empty_label=_("I don't know / the whole system"),
        help_text=_("Optional: the part of the system that is affected."),
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def clean(self):
        cleaned = super().clean()
        module_matches_system(self)
        return cleaned


class ReplyForm(StyledForm):
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000
    )
    attachments = MultipleFileField(label=_("Attachments"))


class ReasonForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=50_000
    )


class OptionalNoteForm(StyledForm):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=50_000,
    )


class RateForm(StyledForm):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the service?"),
        choices=Score.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=50_000,
    )
