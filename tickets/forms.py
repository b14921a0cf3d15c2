"""Web forms of the ticket core, shared by the workspace and the portal.

The input of each ticket action in the web UI (`tickets.actions` names one per action) and the
attachment field every form with files uses. Forms only shape input; the services check and
decide, so the web and the API refuse the same things with the same messages.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.choices import CallableChoiceIterator
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from servicedesk.ui import StyledForm

from .choices import PendingReason, Priority
from .services import ATTACHMENT_TYPES


class LabelChoiceField(forms.ModelChoiceField):
    """Shows the localized label of taxonomy, teams and systems."""

    def label_from_instance(self, obj):
        return getattr(obj, "label", None) or str(obj)


class ModuleChoiceField(LabelChoiceField):
    """A module of an information system, offered grouped by system (one <optgroup> each), so
    the choice reads as depending on the system. The groups are built when the field is
    rendered (a page that does not show the form costs no query); `module_matches_system`
    checks the pair after cleaning. `data-depends-on` lets desk.js show only the chosen
    system's group."""

    def __init__(self, **kwargs):
        from catalog.models import SystemModule

        kwargs.setdefault("label", _("Module"))
        kwargs.setdefault("required", False)
        queryset = (
            SystemModule.objects.filter(is_active=True, system__is_active=True)
            .select_related("system")
            .order_by("system__code", "code")
        )
        super().__init__(queryset=queryset, **kwargs)
        self.widget.attrs["data-depends-on"] = "system"

    def _grouped(self) -> list:
        groups: dict = {}
        for module in self.queryset.all():  # a fresh query each render, never a cached list
            groups.setdefault(module.system, []).append((module.pk, module.label))
        return [("", self.empty_label or "---------")] + [
            (system.label, options) for system, options in groups.items()
        ]

    # Each copy of the field (one per form) answers with its own groups, evaluated lazily.
    choices = property(
        lambda self: CallableChoiceIterator(self._grouped), forms.ChoiceField.choices.fset
    )


def module_matches_system(form: forms.Form, *, system_field: str = "system") -> None:
    """In a form's clean(): a module must belong to the chosen system (a form error on the
    module otherwise); a module chosen without a system brings its system."""
    data = form.cleaned_data
    module, system = data.get("module"), data.get(system_field)
    if module is None:
        return
    if system is None:
        data[system_field] = module.system
    elif module.system_id != system.pk:
        form.add_error("module", _("This module belongs to another system."))


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


# --- the input of each action (tickets.actions) ---------------------------------------------


class ActionForm(StyledForm):
    """The web input of one ticket action; it knows the ticket it acts on (None in bulk)."""

    def __init__(self, *args, ticket=None, **kwargs):
        self.ticket = ticket
        super().__init__(*args, **kwargs)


class EmptyForm(ActionForm):
    """An action without input (taking a ticket)."""


class ReasonForm(ActionForm):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=50_000
    )


class NoteForm(ActionForm):
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=50_000
    )


class AssignForm(ActionForm):
    assignee = LabelChoiceField(label=_("Assign to"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members = User.objects.filter(is_active=True)
        if self.ticket is not None and self.ticket.team_id:
            members = members.filter(memberships__team_id=self.ticket.team_id)
        else:
            members = members.filter(memberships__isnull=False)
        self.fields["assignee"].queryset = members.distinct().order_by("display_name", "username")


class TeamReasonForm(ActionForm):
    """Route, dispatch or escalate: the receiving team and the reason (required)."""

    team = LabelChoiceField(label=_("To team"), queryset=Team.objects.all())
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=50_000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("tier", "code")
        if self.ticket is not None and self.ticket.team_id:
            teams = teams.exclude(pk=self.ticket.team_id)
        self.fields["team"].queryset = teams
        self.fields["team"].label_from_instance = lambda t: f"{t.label} · {t.get_tier_display()}"


class SuspendForm(ActionForm):
    reason = forms.ChoiceField(label=_("Waiting for"), choices=PendingReason.choices)
    note = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=50_000,
        help_text=_("Shown to the requester: say what you need from them."),
    )


class ResolveForm(ActionForm):
    resolution = forms.CharField(
        label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000
    )


class VerifyForm(ActionForm):
    passed = forms.TypedChoiceField(
        label=_("Verification"),
        choices=[("1", _("The fix works")), ("0", _("The fix does not work"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=50_000,
        help_text=_("Required when the fix does not work."),
    )


class MergeForm(ActionForm):
    into = forms.CharField(label=_("Merge into ticket number"), max_length=32)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class PriorityForm(ActionForm):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    reason = forms.CharField(label=_("Reason"), max_length=2000)
