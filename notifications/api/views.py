"""The inbox API: the caller's own in-app notifications."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors, services
from ..models import Notification
from .serializers import NotificationSerializer


class InboxPagination(CursorPagination):
    ordering = "-id"
    page_size = 25


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """GET the caller's inbox, newest first; POST …/{id}/read/ and …/read-all/."""

    serializer_class = NotificationSerializer
    pagination_class = InboxPagination
    queryset = Notification.objects.none()  # the schema's; reads go through the selector
    filter_backends: list = []

    def get_queryset(self):
        return selectors.inbox(viewer=self.request.user)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk=None) -> Response:
        if not str(pk).isdigit():
            raise NotFound()
        try:
            services.notification_mark_read(viewer=request.user, notification_id=int(pk))
        except PermissionDenied as exc:
            raise NotFound() from exc
        return Response(NotificationSerializer(self.get_queryset().get(pk=int(pk))).data)

    @extend_schema(request=None, responses={200: None})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.notification_mark_read(viewer=request.user)})
