"""Input shapes of the routing API (the output is the ticket API's ticket)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Team
from catalog.models import Category, InformationSystem, RequestType
from tickets.api.inputs import ActiveRelatedField


class ClassifySerializer(serializers.Serializer):
    """An agent's correction: any of the four; what is given is stored as training data."""

    request_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=RequestType.objects.filter(is_active=True),
        required=False,
        help_text=_("Request type code, e.g. `defect`."),
    )
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(is_active=True),
        required=False,
        help_text=_("Category code, e.g. `network-vpn`."),
    )
    system = ActiveRelatedField(
        queryset=InformationSystem.objects.filter(is_active=True),
        required=False,
        help_text=_("Affected system id."),
    )
    team = ActiveRelatedField(
        queryset=Team.objects.all(),
        required=False,
        help_text=_("Team id: a new ticket is routed there, a queued one dispatched there."),
    )

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(_("Give a request type, category, system or team."))
        return attrs


class EmptySerializer(serializers.Serializer):
    pass
