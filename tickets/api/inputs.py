"""The input shapes of the ticket actions' API endpoints (one serializer per action, named by
`tickets.actions`), and the fields every ticket input uses.

Input serializers only parse and look things up; the services hold every rule (lengths,
required reasons, permissions). This module imports nothing of the API's output side, so the
catalogue of actions can name these classes without an import cycle.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Team, User
from servicedesk.api import MAX_ID

from ..choices import PendingReason, Priority


class FreeTextField(serializers.CharField):
    """Text a person typed. Unlike DRF's CharField it does not refuse NUL bytes or trim:
    `tickets.validation` cleans every channel's text the same way."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators = [
            v
            for v in self.validators
            if type(v).__name__
            not in ("ProhibitNullCharactersValidator", "ProhibitSurrogateCharactersValidator")
        ]


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class ActiveRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must fit in a bigint before it is looked up."""

    def to_internal_value(self, data):
        IdField().run_validation(data)
        return super().to_internal_value(data)


# --- one input shape per action -------------------------------------------------------------


class EmptySerializer(serializers.Serializer):
    pass


class NoteSerializer(serializers.Serializer):
    note = FreeTextField(required=False, default="")


class ReasonSerializer(serializers.Serializer):
    reason = FreeTextField(required=False, default="")


class RouteSerializer(serializers.Serializer):
    team = ActiveRelatedField(queryset=Team.objects.all())
    reason = FreeTextField(required=False, default="")


class AssignSerializer(serializers.Serializer):
    assignee = ActiveRelatedField(queryset=User.objects.filter(is_active=True))
    reason = FreeTextField(required=False, default="")


class DispatchSerializer(serializers.Serializer):
    team = ActiveRelatedField(queryset=Team.objects.all())
    reason = FreeTextField(required=False, default="")


class EscalateSerializer(serializers.Serializer):
    team = ActiveRelatedField(
        queryset=Team.objects.all(),
        required=False,
        help_text=_("Default: the next team of the current team's escalation chain."),
    )
    reason = FreeTextField(required=False, default="")


class SuspendSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=PendingReason.choices)
    note = FreeTextField(required=False, default="")


class ResolveSerializer(serializers.Serializer):
    resolution = FreeTextField()


class VerifySerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    note = FreeTextField(required=False, default="")


class MergeSerializer(serializers.Serializer):
    into = serializers.CharField(
        max_length=32, help_text=_("The number (SD-2026-000123) or id of the ticket to keep.")
    )
    reason = FreeTextField(required=False, default="")


class PrioritySerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    reason = FreeTextField(required=False, default="")
