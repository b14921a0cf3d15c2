"""Forms of the requester portal. They only shape input; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from catalog.models import InformationSystem
from servicedesk.ui import StyledForm
from tickets.models import TITLE_MAX_LENGTH
from tickets.services import ATTACHMENT_TYPES

from .choices import Score


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files, each within the desk's attachment size limit."""

    def __init__(self, *args, **kwargs):
        # The browser's file chooser offers the types the desk accepts (checked again server-side).
        accept = ",".join(f".{ext}" for ext in sorted(ATTACHMENT_TYPES))
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept}))
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _("Up to %(size)d MB each: %(types)s.")
            % {
                "size": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024),
                "types": ", ".join(sorted(ATTACHMENT_TYPES)),
            },
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        limit = settings.ATTACHMENT_MAX_BYTES
        for upload in cleaned:
            if upload.size > limit:
                raise forms.ValidationError(
                    _("%(name)s is larger than %(size)d MB.")
                    % {"name": upload.name, "size": limit // (1024 * 1024)}
                )
        return cleaned


class SystemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class RequestForm(StyledForm):
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
    attachments = MultipleFileField(label=_("Attachments"))


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
