"""Serializers of the feedback API."""

from rest_framework import serializers

from ..models import Rating


class SurveyAnswerSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=20
    )


class RatingSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.number", read_only=True)

    class Meta:
        model = Rating
        fields = ["ticket", "score", "comment", "reasons", "created_at"]


class ScoreRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    mean = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    count = serializers.IntegerField()
