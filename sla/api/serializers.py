"""Serializers of the SLA API (read-only: timers are written by the SLA services)."""

from __future__ import annotations

from rest_framework import serializers

from ..forms import MAX_PERIOD_DAYS
from ..models import SlaTimer


class SlaTimerSerializer(serializers.ModelSerializer):
    policy = serializers.CharField(source="policy.name", default=None)
    calendar = serializers.CharField(source="calendar.name")

    class Meta:
        model = SlaTimer
        fields = [
            "id",
            "metric",
            "state",
            "priority",
            "policy",
            "calendar",
            "target",
            "used",
            "started_at",
            "due_at",
            "warn_at",
            "paused_at",
            "warned_at",
            "breached_at",
            "met_at",
            "stopped_at",
            "escalation_level",
        ]


class PeriodSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()

    def validate(self, attrs):
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": "The end is before the start."})
        if (attrs["date_to"] - attrs["date_from"]).days >= MAX_PERIOD_DAYS:
            raise serializers.ValidationError({"date_to": "Choose a period of at most a year."})
        return attrs


class ComplianceRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    decided = serializers.IntegerField()
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)


class DashboardTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    priority = serializers.CharField()
    sla_due_at = serializers.DateTimeField(allow_null=True)


class ComplianceSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    by_priority = ComplianceRowSerializer(many=True)
    by_team = ComplianceRowSerializer(many=True)
    by_tier = ComplianceRowSerializer(many=True)
    breached = DashboardTicketSerializer(many=True)
    at_risk = DashboardTicketSerializer(many=True)
    breached_count = serializers.IntegerField()
    at_risk_count = serializers.IntegerField()
