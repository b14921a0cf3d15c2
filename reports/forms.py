"""The report filters: a period (a preset or two dates), a grain, and the dimensions."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.choices import Tier
from accounts.models import OrgUnit, Team
from catalog.models import InformationSystem, RequestType
from tickets.choices import Priority

from .choices import Grain, Preset
from .models import Release
from .selectors import ReportFilters

MAX_DAYS = 3 * 366


def _blank(choices):
    return [("", "—"), *choices]


def _reference_rows() -> list[tuple]:
    """(kind, pk, name, name_zh, depth, path or code) of every unit (u, by path), team (t, by
    tier and code), request type (r, by code) and system (s, by code): one round trip instead
    of four (only the models' own table names reach the SQL)."""
    sql = (
        f"SELECT 'u', id, name, name_zh, depth, path, path FROM {OrgUnit._meta.db_table} "  # noqa: S608  # nosec B608
        f"UNION ALL SELECT 't', id, name, name_zh, 0, '', tier || ':' || code "
        f"FROM {Team._meta.db_table} "
        f"UNION ALL SELECT 'r', id, name, name_zh, 0, code, code FROM {RequestType._meta.db_table} "
        f"UNION ALL SELECT 's', id, name, name_zh, 0, '', code "
        f"FROM {InformationSystem._meta.db_table} "
        "ORDER BY 1, 7"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[:6] for row in cursor.fetchall()]


def preset_period(preset: str, today: date) -> tuple[date, date]:
    if preset == Preset.LAST_7:
        return today - timedelta(days=6), today
    if preset == Preset.LAST_90:
        return today - timedelta(days=89), today
    if preset == Preset.THIS_MONTH:
        return today.replace(day=1), today
    if preset == Preset.LAST_MONTH:
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    return today - timedelta(days=29), today


class ReportFilterForm(forms.Form):
    """Every report's filters, read from the query string so a view can be bookmarked."""

    preset = forms.ChoiceField(label=_("Period"), required=False, choices=Preset.choices)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    grain = forms.ChoiceField(label=_("Per"), required=False, choices=Grain.choices)
    unit = forms.TypedChoiceField(label=_("Unit"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    tier = forms.ChoiceField(label=_("Tier"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    request_type = forms.TypedChoiceField(
        label=_("Request type"), required=False, coerce=int, empty_value=None
    )
    system = forms.TypedChoiceField(label=_("System"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chinese = (get_language() or "").startswith("zh")

        def label(name: str, name_zh: str) -> str:
            return name_zh if chinese and name_zh else name

        self.fields["tier"].choices = _blank(Tier.choices)
        self.fields["priority"].choices = _blank([(p, p) for p in Priority.values])
        # The reference data is read once per request, in one statement: the choices here, and
        # the same names for the page's labels, unit paths and drill-down codes (`filters()`).
        rows = _reference_rows()
        units = [(pk, n, z, depth, path) for kind, pk, n, z, depth, path in rows if kind == "u"]
        self.fields["unit"].choices = _blank(
            [(pk, "\u2003" * (depth - 1) + label(n, z)) for pk, n, z, depth, _p in units]
        )
        self.fields["team"].choices = _blank(
            [(pk, label(n, z)) for kind, pk, n, z, _d, _x in rows if kind == "t"]
        )
        types = [(pk, n, z, code) for kind, pk, n, z, _d, code in rows if kind == "r"]
        self.fields["request_type"].choices = _blank([(pk, label(n, z)) for pk, n, z, _c in types])
        self.fields["system"].choices = _blank(
            [(pk, label(n, z)) for kind, pk, n, z, _d, _x in rows if kind == "s"]
        )
        self.reference = {
            "labels": {
                "unit_id": {pk: label(n, z) for pk, n, z, _d, _p in units},
                "team_id": dict(self.fields["team"].choices[1:]),
                "request_type_id": {pk: label(n, z) for pk, n, z, _c in types},
                "system_id": dict(self.fields["system"].choices[1:]),
            },
            "unit_paths": {pk: path for pk, _n, _z, _d, path in units},
            "request_type_codes": {pk: code for pk, _n, _z, code in types},
        }

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if data.get("preset") not in ("", None, Preset.CUSTOM) or not (start and end):
            if data.get("preset") == Preset.CUSTOM and not (start and end):
                raise forms.ValidationError(_("A custom period needs both dates."))
            start, end = preset_period(data.get("preset") or "", timezone.localdate())
        if start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        elif (end - start).days > MAX_DAYS:
            self.add_error("date_from", _("A period is at most three years."))
        data["date_from"], data["date_to"] = start, end
        return data

    def filters(self) -> ReportFilters:
        data = self.cleaned_data
        return ReportFilters(
            date_from=data["date_from"],
            date_to=data["date_to"],
            grain=data.get("grain") or Grain.WEEK,
            unit=data.get("unit"),
            team=data.get("team"),
            tier=data.get("tier") or "",
            priority=data.get("priority") or "",
            request_type=data.get("request_type"),
            system=data.get("system"),
            unit_path=self.reference["unit_paths"].get(data.get("unit"), "\x00")
            if data.get("unit") is not None
            else None,
            cache={"reference": self.reference},
        )


class ReleaseForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = ["system", "version", "released_on", "notes"]
        widgets = {"released_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
