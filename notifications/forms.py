"""The profile page's form: language, time zone, and each kind of message on or off."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", _("The desk's (%(zone)s)") % {"zone": settings.TIME_ZONE})] + [
        (zone, zone) for zone in sorted(zoneinfo.available_timezones()) if "/" in zone
    ]


class ProfileForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        self.fields["language"].choices = [("", _("The desk's default")), *settings.LANGUAGES]
        self.fields["time_zone"].choices = time_zone_choices()
        for kind in kinds:
            self.fields[f"{kind}:inbox"] = forms.BooleanField(required=False, label=_("In-app"))
            self.fields[f"{kind}:email"] = forms.BooleanField(required=False, label=_("E-mail"))

    def rows(self):
        """(kind's subject line as it reads, audience, inbox field, e-mail field) per kind."""
        for kind in self.kinds:
            spec = KINDS[kind]
            yield (
                str(spec.subject).replace("[%(number)s] ", "").split("%(")[0].strip(" :—-"),
                spec.audience,
                self[f"{kind}:inbox"],
                self[f"{kind}:email"],
            )
