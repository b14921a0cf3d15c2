"""Forms of the agent workspace. They shape input; the services check and decide.

The input forms of the ticket actions are the catalogue's (`tickets.actions`, `tickets.forms`);
here are the queue filters, the conversation, logging a request, bulk actions and the manual
triage form the workspace specialises `route` with."""

from __future__ import annotations

from functools import partial

from django import forms
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.choices import Tier
from accounts.models import Team, User
from catalog.models import Category, InformationSystem, RequestType
from servicedesk.ui import StyledForm
from tickets import actions as catalogue
from tickets.choices import Channel, Impact, Priority, Status
from tickets.forms import (
    LabelChoiceField,
    ModuleChoiceField,
    MultipleFileField,
    module_matches_system,
)
from tickets.models import TITLE_MAX_LENGTH

from .reference import Labels, options_html

ANY = _("Any")


def _blank(choices, label=ANY):
    return [("", label), *choices]


_STATUS_CHOICES = Status.choices
_PRIORITY_CHOICES = [(p, p) for p in Priority.values]
_TIER_CHOICES = Tier.choices
SORTS = [("newest", _("Newest first")), ("oldest", _("Oldest first")), ("priority", _("Priority"))]


class QueueFilterForm(StyledForm):
    """The filters of every queue; options are loaded once per page (a fixed query count)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    request_type = forms.ChoiceField(label=_("Type"), required=False)
    system = forms.TypedChoiceField(label=_("System"), required=False, coerce=int)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int)
    tier = forms.ChoiceField(label=_("Tier"), required=False)
    unit = forms.TypedChoiceField(label=_("Unit"), required=False, coerce=int)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORTS)

    def __init__(self, *args, labels: Labels, **kwargs):
        super().__init__(*args, **kwargs)
        self.labels = labels
        # Given as callables: assigning a list makes Django normalise every option on every
        # page (the units alone are hundreds; a tenth of the queue view). The lists are
        # iterated only to check a chosen value, or to build the selects' options when their
        # `{% memo %}` has none yet.
        choices = {
            "status": _STATUS_CHOICES,
            "priority": _PRIORITY_CHOICES,
            # Plain tuples from the per-process reference lists (workspace.reference): these
            # lists are read on every queue page.
            "request_type": labels.request_type_choices,
            "system": labels.system_choices,
            "team": labels.team_choices,
            "tier": _TIER_CHOICES,
            "unit": labels.unit_choices,
        }
        for name, options in choices.items():
            self.fields[name].choices = partial(_blank, options)
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("Number, requester, or words in any language"), "type": "search"}
        )

    def memo_key(self) -> tuple:
        """What the selects' markup depends on besides the language (`{% memo %}` in
        workspace/queue.html): the reference lists and the chosen values."""
        return (
            self.labels.fingerprint,
            *(str(self[name].value()) for name in self.fields if name != "q"),
        )

    def selects(self) -> list[tuple[forms.BoundField, SafeString]]:
        """Every filter but the text, with its <option>s."""
        return [
            # Safe: options_html escapes every value and label.
            (bound, mark_safe(options_html(bound.field.choices, {str(bound.value())})))  # noqa: S308  # nosec B308 B703
            for bound in self
            if bound.name != "q"
        ]


class RouteForm(StyledForm):
    """Manual triage: say what the ticket is and send it to a team."""

    request_type = LabelChoiceField(
        label=_("Request type"), queryset=RequestType.objects.filter(is_active=True)
    )
    category = LabelChoiceField(
        label=_("Problem category"),
        queryset=Category.objects.filter(is_active=True).order_by("path"),
        required=False,
    )
    system = LabelChoiceField(
        label=_("Affected system"),
        queryset=InformationSystem.objects.filter(is_active=True),
        required=False,
    )
    module = ModuleChoiceField()
    team = LabelChoiceField(
        label=_("Route to team"),
        queryset=Team.objects.order_by("tier", "code"),
        required=False,
        help_text=_("Empty: the first team of the request type's entry tier."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].label_from_instance = lambda t: f"{t.label} · {t.get_tier_display()}"
        # The category tree as a tree: each level indented under its parent (ordered by path).
        self.fields["category"].label_from_instance = lambda c: (
            "\u3000" * (max(getattr(c, "depth", 1), 1) - 1) + c.label
        )

    def clean(self):
        cleaned = super().clean()
        module_matches_system(self)
        return cleaned


class CommentForm(StyledForm):
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000
    )
    is_internal = forms.BooleanField(
        label=_("Internal note (not shown to the requester)"), required=False
    )
    attachments = MultipleFileField(label=_("Attachments"))


class LogRequestForm(StyledForm):
    """A phone or IM request logged by an agent on the requester's behalf."""

    requester = forms.CharField(
        label=_("Requester"),
        max_length=150,
        help_text=_("Username, e-mail address or phone number of the person who called."),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.IM, Channel.IM.label)],
    )
    title = forms.CharField(label=_("Subject"), max_length=TITLE_MAX_LENGTH)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    system = LabelChoiceField(
        label=_("Affected system"),
        queryset=InformationSystem.objects.filter(is_active=True),
        required=False,
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"), choices=Impact.choices, coerce=int, initial=Impact.MINOR
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def clean_requester(self):
        value = self.cleaned_data["requester"].strip()
        people = User.objects.filter(is_active=True)
        match = (
            people.filter(username__iexact=value).first()
            or people.filter(email__iexact=value).first()
            or (people.filter(phone=value).first() if value else None)
        )
        if match is None:
            raise forms.ValidationError(_("No active person has this username, e-mail or phone."))
        return match


# The catalogue's actions that may be taken on many tickets at once.
BULK_ACTIONS = [(action.name, action.bulk_label) for action in catalogue.bulk_actions()]


class BulkForm(StyledForm):
    action = forms.ChoiceField(label=_("Action"), choices=BULK_ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, required=True)
    assignee = LabelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Assign to…"),
    )
    note = forms.CharField(label=_("Note or reason"), required=False, max_length=50_000)

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if members is not None:
            self.fields["assignee"].queryset = members
        # The ids are checked against what the viewer may see when acting, not here.
        self.fields["ids"].valid_value = lambda value: True
