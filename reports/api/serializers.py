from rest_framework import serializers

from catalog.models import InformationSystem

from ..models import Release


class ReleaseSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(
        slug_field="code", queryset=InformationSystem.objects.all()
    )

    class Meta:
        model = Release
        fields = ["id", "system", "version", "released_on", "notes", "created_at"]
        read_only_fields = ["id", "created_at"]
        # One row per system and version is the service's guard (a field message on
        # "version"), not the serializer's generic unique-together error.
        validators: list = []
