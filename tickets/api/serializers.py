"""Input and output shapes of the ticket API.

The input shapes of the actions are in `tickets.api.inputs`. Input serializers only parse and
look things up; the services (`tickets.services`) hold every rule (lengths, required reasons,
permissions), so the API, the portal and the workspace refuse the same things with the same
messages. Free text is passed through untouched (`tickets.validation` strips NUL bytes and
enforces lengths). Output serializers read only the relations the selectors join, so a list
page costs the same number of queries at any size; the ticket and people shapes are built by
plain functions, their declared fields kept for the schema.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.choices import Tier
from accounts.models import User
from catalog.models import Category, InformationSystem, RequestType, SystemModule
from servicedesk.api import InputSerializer

from ..actions import available as ticket_actions
from ..choices import Channel, EventKind, Impact, PendingReason, Priority, Status, Urgency
from ..models import Attachment, Comment, Ticket, TicketEvent
from ..timeline import public_text
from .inputs import ActiveRelatedField, FreeTextField, IdField

# Channels an agent records when logging a request on someone's behalf.
ON_BEHALF_CHANNELS = (Channel.PHONE, Channel.IM, Channel.EMAIL, Channel.PORTAL)
ON_BEHALF_CHANNEL_CHOICES = [(c.value, c.label) for c in ON_BEHALF_CHANNELS]


# --- small nested shapes (read from joined relations only) -----------------------------------
#
# The output serializers keep their declared fields, because the OpenAPI schema is generated
# from them, but build their dicts by hand: DRF's generic path (a deep copy of every declared
# field per nested serializer, then one get_attribute/to_representation per field) was most of
# a 50-row list page (8–11 of 16–21 ms at 1,000,000 tickets; 2–3 ms by hand). The helpers give
# exactly what the declared fields give (tests/tickets/test_api_output_shape.py pins both).

# One field formats every datetime as the declared DateTimeFields do: ISO 8601 in the current
# time zone, UTC written as `Z`.
DATETIME = serializers.DateTimeField(read_only=True)


def person(user: User | None) -> dict | None:
    """PersonSerializer's output."""
    if user is None:
        return None
    return {"id": int(user.id), "username": str(user.username), "name": str(user)}


def named(obj: Any) -> dict | None:
    """NamedSerializer's output; `label` follows the active language, so it is read per call."""
    if obj is None:
        return None
    return {"id": int(obj.id), "code": str(obj.code), "name": str(obj.label)}


def number_of(ticket: Ticket | None) -> str | None:
    """A SlugRelatedField on `number`: the related ticket's number."""
    return None if ticket is None else ticket.number


def choice_map(field_name: str) -> dict[str, Any]:
    """How DRF's ChoiceField maps a stored value to its declared choice (by its text)."""
    return {str(value): value for value, _label in Ticket._meta.get_field(field_name).flatchoices}


CHOICES = {
    name: choice_map(name)
    for name in ("status", "pending_reason", "priority", "channel", "tier", "impact", "urgency")
}


# The status labels, lazy: `Ticket.get_status_display()` rebuilds this dict on every call,
# translating every label to hash it, which was most of a list row's cost.
STATUS_LABELS = dict(Ticket._meta.get_field("status").flatchoices)


def status_label(ticket: Ticket) -> str:
    """`ticket.get_status_display()`, in the active language."""
    return str(STATUS_LABELS.get(ticket.status, ticket.status))


def choice_value(ticket: Ticket, field_name: str) -> Any:
    """The ChoiceField output of one of the ticket's choice columns ('' and None as they are)."""
    value = getattr(ticket, field_name)
    if value in ("", None):
        return value
    return CHOICES[field_name].get(str(value), value)


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)

    def to_representation(self, instance: User) -> dict:
        return person(instance)


class NamedSerializer(serializers.Serializer):
    """A team, system, unit or type: its id, code and name in the current language."""

    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(source="label", read_only=True)

    def to_representation(self, instance) -> dict:
        return named(instance)


# --- tickets -------------------------------------------------------------------------------


def ticket_row(ticket: Ticket) -> dict:
    """TicketListSerializer's output, in the order of its `Meta.fields`."""
    return {
        "id": int(ticket.id),
        "number": str(ticket.number),
        "title": str(ticket.title),
        "status": choice_value(ticket, "status"),
        "status_label": status_label(ticket),
        "pending_reason": choice_value(ticket, "pending_reason"),
        "priority": choice_value(ticket, "priority"),
        "channel": choice_value(ticket, "channel"),
        "tier": choice_value(ticket, "tier"),
        "needs_triage": bool(ticket.needs_triage),
        "requester": person(ticket.requester),
        "assignee": person(ticket.assignee),
        "team": named(ticket.team),
        "request_type": named(ticket.request_type),
        "system": named(ticket.system),
        "unit": named(ticket.unit),
        "created_at": DATETIME.to_representation(ticket.created_at),
        "updated_at": DATETIME.to_representation(ticket.updated_at),
    }


def ticket_details(ticket: Ticket) -> dict:
    """What TicketDetailSerializer adds to a row but `actions`, in `Meta.fields` order."""
    confidence = ticket.classification_confidence
    return {
        "description": str(ticket.description),
        "category": named(ticket.category),
        "module": named(ticket.module),
        "impact": choice_value(ticket, "impact"),
        "urgency": choice_value(ticket, "urgency"),
        "resolution": str(ticket.resolution),
        "classification_confidence": None if confidence is None else float(confidence),
        "created_by": person(ticket.created_by),
        "first_response_at": DATETIME.to_representation(ticket.first_response_at),
        "resolved_at": DATETIME.to_representation(ticket.resolved_at),
        "closed_at": DATETIME.to_representation(ticket.closed_at),
        "reopen_count": int(ticket.reopen_count),
        "incident": number_of(ticket.incident),
        "merged_into": number_of(ticket.merged_into),
    }


class TicketListSerializer(serializers.ModelSerializer):
    """One row of a ticket list. Only the relations in `selectors.LIST_RELATED` are read."""

    # (The docstring is the schema's description.) The declared fields document the shape;
    # `to_representation` builds it (see above). With `many=True`, DRF's ListSerializer calls
    # it once per row on one shared instance, so no custom list serializer is needed.

    requester = PersonSerializer(read_only=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    team = NamedSerializer(read_only=True, allow_null=True)
    request_type = NamedSerializer(read_only=True, allow_null=True)
    system = NamedSerializer(read_only=True, allow_null=True)
    unit = NamedSerializer(read_only=True, allow_null=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    # Blank while the ticket is not pending / not yet routed: the schema must allow "" (the
    # model's blank=True is lost on read-only fields; found by tests/security/test_api_fuzz.py).
    pending_reason = serializers.ChoiceField(
        choices=PendingReason.choices, allow_blank=True, read_only=True
    )
    tier = serializers.ChoiceField(choices=Tier.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "title",
            "status",
            "status_label",
            "pending_reason",
            "priority",
            "channel",
            "tier",
            "needs_triage",
            "requester",
            "assignee",
            "team",
            "request_type",
            "system",
            "unit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Ticket) -> dict:
        return ticket_row(instance)


class TicketDetailSerializer(TicketListSerializer):
    """The whole ticket as this viewer may see it, with what they may do next (`actions`)."""

    category = NamedSerializer(read_only=True, allow_null=True)
    module = NamedSerializer(read_only=True, allow_null=True)
    created_by = PersonSerializer(read_only=True, allow_null=True)
    incident = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    merged_into = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    actions = serializers.SerializerMethodField()

    class Meta(TicketListSerializer.Meta):
        fields = [
            *TicketListSerializer.Meta.fields,
            "description",
            "category",
            "module",
            "impact",
            "urgency",
            "resolution",
            "classification_confidence",
            "created_by",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "reopen_count",
            "incident",
            "merged_into",
            "actions",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Ticket) -> dict:
        return {
            **ticket_row(instance),
            **ticket_details(instance),
            "actions": self.get_actions(instance),
        }

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, ticket: Ticket) -> list[str]:
        viewer = self.context["request"].user
        return ticket_actions(ticket=ticket, viewer=viewer)


class TicketCreateSerializer(InputSerializer):
    """A new request. A requester files it for themself (channel `api`); an agent allowed to
    log on behalf of others names the `requester` and the channel it came in by."""

    title = FreeTextField(help_text=_("1–200 characters."))
    description = FreeTextField(required=False, default="", help_text=_("Up to 50,000."))
    requester = ActiveRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text=_("Only for agents logging a request on behalf of someone."),
    )
    channel = serializers.ChoiceField(
        choices=ON_BEHALF_CHANNEL_CHOICES,
        required=False,
        help_text=_("How the request came in; only with `requester`. Default: phone."),
    )
    request_type = serializers.SlugRelatedField(
        slug_field="code", queryset=RequestType.objects.filter(is_active=True), required=False
    )
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.filter(is_active=True), required=False
    )
    system = ActiveRelatedField(
        queryset=InformationSystem.objects.filter(is_active=True), required=False
    )
    module = ActiveRelatedField(
        queryset=SystemModule.objects.filter(is_active=True), required=False
    )
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)

    def validate(self, attrs):
        user = self.context["request"].user
        requester = attrs.get("requester")
        on_behalf = requester is not None and requester.pk != user.pk
        if "channel" in attrs and not on_behalf:
            raise serializers.ValidationError(
                {"channel": [_("Only an agent logging a request for someone sets the channel.")]}
            )
        attrs["requester"] = requester or user
        attrs["channel"] = attrs.get("channel", Channel.PHONE) if on_behalf else Channel.API
        return attrs


class TicketListQuerySerializer(serializers.Serializer):
    """The list's filters (`tickets.selectors.TicketFilters`). Lists accept repeated
    parameters or commas: `?status=new&status=queued` or `?status=new,queued`."""

    status = serializers.ListField(child=serializers.ChoiceField(Status.choices), required=False)
    priority = serializers.ListField(
        child=serializers.ChoiceField(Priority.choices), required=False
    )
    request_type = serializers.ListField(child=serializers.SlugField(max_length=40), required=False)
    system = serializers.ListField(child=IdField(), required=False)
    team = serializers.ListField(child=IdField(), required=False)
    tier = serializers.ListField(
        child=serializers.ChoiceField(choices=["front", "middle", "back"]), required=False
    )
    unit = IdField(required=False)
    assignee = serializers.CharField(
        required=False, help_text=_("A user id, or `me` for the caller.")
    )
    requester = IdField(required=False, help_text=_("A requester's user id."))
    unassigned = serializers.BooleanField(required=False, default=False)
    needs_triage = serializers.BooleanField(required=False, allow_null=True, default=None)
    open = serializers.BooleanField(
        required=False, default=False, help_text=_("Only open tickets (ignored with `status`).")
    )
    q = serializers.CharField(
        required=False, default="", max_length=200, help_text=_("A ticket number or title words.")
    )

    LIST_FIELDS = ("status", "priority", "request_type", "system", "team", "tier")

    def to_internal_value(self, data):
        # Split comma-separated values of the list filters before validating each item.
        if hasattr(data, "getlist"):
            expanded = {}
            for key in data:
                values = data.getlist(key)
                if key in self.LIST_FIELDS:
                    expanded[key] = [v for value in values for v in value.split(",") if v]
                elif values[-1] != "":  # `?unit=` from an empty form field: no filter
                    expanded[key] = values[-1]
            data = expanded
        return super().to_internal_value(data)

    def validate_assignee(self, value: str) -> int:
        if value == "me":
            return self.context["request"].user.pk
        return IdField().run_validation(value)


# --- the conversation and the log ------------------------------------------------------------


class CommentSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "is_internal", "created_at"]
        read_only_fields = fields


class CommentCreateSerializer(serializers.Serializer):
    body = FreeTextField()
    is_internal = serializers.BooleanField(
        required=False, default=False, help_text=_("An internal note (agents only).")
    )


class TicketEventSerializer(serializers.ModelSerializer):
    """One entry of the operation log: who, when, what, old and new value."""

    actor = PersonSerializer(read_only=True, allow_null=True)
    kind_label = serializers.SerializerMethodField()
    old_value = serializers.JSONField(read_only=True)
    new_value = serializers.JSONField(read_only=True)

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "kind",
            "kind_label",
            "actor",
            "actor_kind",
            "field",
            "old_value",
            "new_value",
            "message",
            "is_public",
            "created_at",
        ]
        read_only_fields = fields

    def get_kind_label(self, event: TicketEvent) -> str:
        try:
            return str(EventKind(event.kind).label)
        except ValueError:
            return event.kind

    def to_representation(self, event: TicketEvent) -> dict:
        data = super().to_representation(event)
        if not self.context.get("viewer_is_staff", True) and not public_text(event):
            data["message"] = ""  # an agent's internal reason for a change the requester sees
        return data


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = PersonSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "filename",
            "content_type",
            "size",
            "is_internal",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: Attachment) -> str:
        path = reverse("api-attachment-download", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AttachmentCreateSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    is_internal = serializers.BooleanField(required=False, default=False)


class ActionsSerializer(serializers.Serializer):
    status = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
