"""The release calendar API: managers and administrators record system releases, which the
spike detector uses to annotate spikes (GET list/detail, POST, PATCH, DELETE)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from .. import services
from ..models import Release
from .serializers import ReleaseSerializer


class CanKeepCalendar(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (user.has_perm("accounts.view_reports") or user.has_perm("accounts.configure_desk"))
        )


def _field_errors(exc: ValidationError) -> drf_serializers.ValidationError:
    return drf_serializers.ValidationError(getattr(exc, "message_dict", {"detail": exc.messages}))


class ReleaseViewSet(viewsets.ModelViewSet):
    serializer_class = ReleaseSerializer
    permission_classes = [CanKeepCalendar]
    queryset = Release.objects.select_related("system").order_by("-released_on", "-id")
    filterset_fields = ["system", "released_on"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            release = services.release_create(actor=request.user, **serializer.validated_data)
        except ValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(self.get_serializer(release).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        release = self.get_object()
        serializer = self.get_serializer(release, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            release = services.release_update(
                actor=request.user, release=release, **serializer.validated_data
            )
        except ValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(self.get_serializer(release).data)

    def destroy(self, request, *args, **kwargs):
        services.release_delete(actor=request.user, release=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
