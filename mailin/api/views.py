"""The e-mail channel's API for administrators: mailbox state and counters, the quarantine
with retry and discard."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors, services
from ..models import InboundMessage, Mailbox
from .serializers import InboundMessageSerializer, MailboxSerializer


def _require_admin(request: Request) -> None:
    if not request.user.has_perm("accounts.configure_desk"):
        raise DRFPermissionDenied()


class MailboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """GET the mailboxes with their state and counters (administrators of the desk)."""

    serializer_class = MailboxSerializer
    queryset = Mailbox.objects.none()
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        _require_admin(self.request)
        return selectors.mailbox_list(viewer=self.request.user)


class QuarantinePagination(CursorPagination):
    ordering = "-id"
    page_size = 50


class QuarantineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """GET the quarantine, newest first; POST …/{id}/retry/ or …/{id}/discard/."""

    serializer_class = InboundMessageSerializer
    pagination_class = QuarantinePagination
    queryset = InboundMessage.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        _require_admin(self.request)
        return selectors.quarantine_list(viewer=self.request.user)

    def _act(self, request: Request, pk, service) -> Response:
        _require_admin(request)
        if not str(pk).isdigit() or not InboundMessage.objects.filter(pk=int(pk)).exists():
            raise NotFound()
        try:
            row = service(message_pk=int(pk), actor=request.user)
        except PermissionDenied as exc:
            raise DRFPermissionDenied() from exc
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(InboundMessageSerializer(row).data)

    @extend_schema(request=None, responses={200: InboundMessageSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        return self._act(request, pk, services.quarantine_retry)

    @extend_schema(request=None, responses={200: InboundMessageSerializer})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk=None) -> Response:
        return self._act(request, pk, services.quarantine_discard)
