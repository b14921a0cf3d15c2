"""The quarantine's one form: which message, and retry or discard."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class QuarantineActionForm(forms.Form):
    message = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(choices=[("retry", _("Retry")), ("discard", _("Discard"))])
