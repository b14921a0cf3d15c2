"""Serializers of the catalogue API."""

from rest_framework import serializers

from ..models import Service, ServiceField, ServiceRequest


class ServiceFieldSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    help = serializers.CharField(read_only=True)
    choices = serializers.SerializerMethodField()

    class Meta:
        model = ServiceField
        fields = ["key", "label", "kind", "required", "help", "choices", "show_if", "show_if_value"]

    def get_choices(self, obj) -> list[dict]:
        return [{"value": v, "label": label} for v, label in obj.choice_list()]


class ServiceSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    group = serializers.CharField(source="group.label", read_only=True)
    description = serializers.CharField(source="text", read_only=True)

    class Meta:
        model = Service
        fields = ["code", "label", "group", "description", "ask_impact", "is_data_service"]


class ServiceDetailSerializer(ServiceSerializer):
    fields = ServiceFieldSerializer(many=True, read_only=True)

    class Meta(ServiceSerializer.Meta):
        fields = [*ServiceSerializer.Meta.fields, "fields"]


class ServiceRequestSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.number", read_only=True)
    service = serializers.CharField(source="service.code", read_only=True)

    class Meta:
        model = ServiceRequest
        fields = ["ticket", "service", "answers", "stated_impact", "stated_urgency", "created_at"]
