"""The request form of a catalogue service, built from its fields at run time (no code per
service). It only shapes input: conditional fields, types and limits; the service decides."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from catalog.models import InformationSystem
from servicedesk.ui import StyledForm
from tickets.choices import Impact, Urgency

from .choices import FieldKind
from .models import Service, ServiceField

TEXT_MAX = 500
LONG_TEXT_MAX = 10_000


def _empty(value) -> bool:
    return value in (None, "", [], ())


class _ListChoiceIterator(forms.models.ModelChoiceIterator):
    """The choices from one plain SELECT. Django's iterator reads them through a server-side
    cursor (DECLARE … WITH HOLD, FETCH, CLOSE: three round trips) for a handful of rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in list(self.queryset):
            yield self.choice(obj)


class _SystemChoiceField(forms.ModelChoiceField):
    iterator = _ListChoiceIterator


def _form_field(field: ServiceField) -> forms.Field:
    common = {"label": field.label, "help_text": field.help, "required": False}
    kind = field.kind
    if kind == FieldKind.TEXT:
        return forms.CharField(max_length=TEXT_MAX, **common)
    if kind == FieldKind.LONG_TEXT:
        return forms.CharField(
            max_length=LONG_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}), **common
        )
    if kind == FieldKind.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *field.choice_list()], **common)
    if kind == FieldKind.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=field.choice_list(), widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == FieldKind.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
        )
    if kind == FieldKind.USER:
        return forms.CharField(
            max_length=150, widget=forms.TextInput(attrs={"placeholder": _("user name")}), **common
        )
    if kind == FieldKind.SYSTEM:
        return _SystemChoiceField(
            queryset=InformationSystem.objects.filter(is_active=True).order_by("code"), **common
        )
    return forms.FileField(**common)


def _style(fields) -> None:
    """StyledForm styles the fields it knows at construction; these are added after it."""
    for field in fields:
        widget = field.widget
        if "class" in widget.attrs:
            continue
        if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select"
        else:
            widget.attrs["class"] = "form-control"


class ServiceRequestForm(StyledForm):
    """The fields of `service`, plus impact/urgency when the service asks, plus the requester
    when an agent logs the request on someone's behalf."""

    def __init__(self, *args, service: Service, on_behalf: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service
        self.service_fields = list(service.fields.all())
        self.on_behalf = on_behalf
        if on_behalf:
            self.fields["requester"] = forms.CharField(
                label=gettext_lazy("Requester (user name)"), max_length=150
            )
        for field in self.service_fields:
            self.fields[field.key] = _form_field(field)
            self.fields[field.key].service_field = field
        if service.ask_impact:
            self.fields["impact"] = forms.TypedChoiceField(
                label=gettext_lazy("Impact"), choices=Impact.choices, coerce=int
            )
            self.fields["urgency"] = forms.TypedChoiceField(
                label=gettext_lazy("Urgency"), choices=Urgency.choices, coerce=int
            )
        _style(self.fields.values())

    def _raw(self, field: ServiceField):
        if field.kind == FieldKind.FILE:
            return self.files.get(field.key) if self.files else None
        if field.kind == FieldKind.MULTI_CHOICE:
            return (
                self.data.getlist(field.key)
                if hasattr(self.data, "getlist")
                else self.data.get(field.key)
            )
        return self.data.get(field.key)

    def visible(self, field: ServiceField, values: dict) -> bool:
        """Whether a conditional field applies to these answers."""
        if not field.show_if:
            return True
        other = values.get(field.show_if)
        if isinstance(other, list):
            return field.show_if_value in other
        return other is not None and str(other) == field.show_if_value

    def clean(self):
        cleaned = super().clean()
        values = {f.key: cleaned.get(f.key) for f in self.service_fields}
        for field in self.service_fields:
            shown = self.visible(field, values)
            value = cleaned.get(field.key)
            if not shown:
                if not _empty(self._raw(field)):
                    self.add_error(field.key, _("This field does not apply to your answers."))
                cleaned.pop(field.key, None)
                continue
            if field.key in self.errors:  # its own type check already failed
                continue
            if field.required and _empty(value):
                self.add_error(field.key, _("This field is required."))
            elif field.kind == FieldKind.USER and value:
                if not User.objects.filter(username=value, is_active=True).exists():
                    self.add_error(field.key, _("No such user."))
            elif field.kind == FieldKind.FILE and value:
                limit = settings.SERVICECATALOG["FILE_MAX_BYTES"]
                if value.size > limit:
                    self.add_error(
                        field.key,
                        _("The file is too large: at most %(max)d bytes.") % {"max": limit},
                    )
        if self.on_behalf and cleaned.get("requester"):
            requester = User.objects.filter(username=cleaned["requester"], is_active=True).first()
            if requester is None:
                self.add_error("requester", _("No such user."))
            cleaned["requester_user"] = requester
        return cleaned

    def answers(self) -> dict:
        """Answers by key, of the visible fields (call after is_valid)."""
        return {
            f.key: self.cleaned_data.get(f.key)
            for f in self.service_fields
            if f.key in self.cleaned_data and not _empty(self.cleaned_data.get(f.key))
        }


class CatalogueSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
