"""The ticket API: reads through the viewer-scoped selectors, writes through the services.

Every endpoint is one action. The ticket actions' endpoints are built from the catalogue
(`tickets.actions`): one per action, with its own input schema. A ticket the caller may not
see is a 404 whatever the reason (no such id, someone else's ticket, not even a number), so ids
do not leak. Errors are JSON: field messages (400), permission (403), an impossible action from
the ticket's status (409 with the actions allowed now), somebody else acting on the ticket at
the same moment (409).
"""

from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api import ERRORS, MAX_ID, action_responses, conflict, parse_id, validated

from .. import actions, reactions, selectors, services
from ..choices import Status
from ..exceptions import ConcurrentModification, IllegalTransition
from ..models import Attachment, Ticket
from ..views import attachment_response
from . import listing
from . import serializers as s

TRANSITION_RESPONSES = action_responses(s.TicketDetailSerializer)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "The ETag of the ticket as you last read it. If the ticket changed since, nothing is "
        "done and the answer is 409."
    ),
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "Any unique string (at most 255 characters). Sending the same key again returns the "
        "ticket the first request created (200) instead of creating another."
    ),
)


class TicketCursorPagination(CursorPagination):
    """Keyset pagination on the primary key: a deep page costs what the first one does."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        # A cursor is opaque but not signed: a forged position must be a 404 like any other
        # invalid cursor, not a database error.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            position = str(cursor.position)
            if not (position.isascii() and position.isdigit() and int(position) <= MAX_ID):
                raise NotFound(self.invalid_cursor_message)
        return cursor


class TicketViewSet(viewsets.GenericViewSet):
    """Tickets the caller may see, and one POST endpoint per thing one can do to a ticket."""

    queryset = Ticket.objects.none()  # only for the schema: every read goes through selectors
    serializer_class = s.TicketListSerializer
    pagination_class = TicketCursorPagination
    filter_backends: list = []
    lookup_value_regex = r"[^/]+"

    # --- helpers ----------------------------------------------------------------------------

    def get_ticket(self, *, with_relations: bool = False) -> Ticket:
        """The ticket of the URL if the caller may see it (else 404). Sub-resources and actions
        only need the ticket's own columns; the detail view loads its relations too."""
        ticket_id = parse_id(self.kwargs["pk"])
        try:
            if with_relations:
                return selectors.ticket_get(viewer=self.request.user, ticket_id=ticket_id)
            return selectors.visible_tickets(self.request.user).get(pk=ticket_id)
        except Ticket.DoesNotExist as exc:
            raise NotFound() from exc

    def ticket_response(self, ticket: Ticket, *, status_code: int = status.HTTP_200_OK, **kw):
        """The ticket as it is now. If the caller just passed it on and may no longer see it,
        they still get the result of their own action (without further actions)."""
        try:
            current = selectors.ticket_get(viewer=self.request.user, ticket_id=ticket.pk)
        except Ticket.DoesNotExist:
            ticket.refresh_from_db()
            data = s.TicketDetailSerializer(ticket, context={"request": self.request}).data
            data["actions"] = []
        else:
            data = s.TicketDetailSerializer(current, context={"request": self.request}).data
            ticket = current
        response = Response(data, status=status_code, **kw)
        response["ETag"] = services.ticket_etag(ticket)
        return response

    def illegal(
        self, exc: IllegalTransition | ConcurrentModification, ticket: Ticket, name: str
    ) -> Response:
        """409 with the ticket's status now and the actions the caller may take on it now."""
        try:
            current = selectors.ticket_get(viewer=self.request.user, ticket_id=ticket.pk)
        except Ticket.DoesNotExist:
            current, allowed = ticket, []
        else:
            allowed = actions.available(ticket=current, viewer=self.request.user)
        if isinstance(exc, ConcurrentModification):
            detail = str(exc)
        else:
            detail = _("“%(action)s” is not possible while the ticket is “%(status)s”.") % {
                "action": name,
                "status": Status(current.status).label,
            }
        return conflict(detail, status=current.status, allowed=allowed)

    def transition(self, request: Request, ticket_action: actions.TicketAction) -> Response:
        """Input serializer → service → output serializer, with the 409 mapping."""
        ticket = self.get_ticket()
        data = validated(ticket_action.serializer, request)
        name = ticket_action.name
        try:
            # Lost-update protection: the change applies only to the version the client saw
            # (`If-Match`), or else to the one this request read above.
            actions.perform_on_version(
                ticket_action,
                ticket=ticket,
                actor=request.user,
                data=data,
                version=request.headers.get("If-Match", ""),
            )
        except (IllegalTransition, ConcurrentModification) as exc:
            return self.illegal(exc, ticket, name)
        return self.ticket_response(ticket)

    # --- reads and intake -----------------------------------------------------------------

    @extend_schema(
        parameters=[s.TicketListQuerySerializer],
        responses={200: s.TicketListSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request: Request) -> Response:
        """Tickets you may see, newest first, 50 a page (`next`/`previous` cursors)."""
        # The page is cut on the tickets' ids (scope, filters and cursor as always) by the
        # statement that reads its rows too, shaped without model instances (`listing`).
        tickets = selectors.ticket_id_pages(
            viewer=request.user, filters=listing.list_filters(request), select=listing.page_sql
        )
        page = self.paginate_queryset(tickets)
        return self.get_paginated_response(listing.page_rows(page))

    @extend_schema(responses={200: s.TicketDetailSerializer, 404: ERRORS[404]})
    def retrieve(self, request: Request, pk=None) -> Response:
        """One ticket, with the actions you may take on it now."""
        ticket = self.get_ticket(with_relations=True)
        response = Response(s.TicketDetailSerializer(ticket, context={"request": request}).data)
        response["ETag"] = services.ticket_etag(ticket)
        return response

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=s.TicketCreateSerializer,
        responses={
            201: s.TicketDetailSerializer,
            200: OpenApiResponse(
                s.TicketDetailSerializer,
                description=gettext_lazy(
                    "The Idempotency-Key was seen before: the ticket it created."
                ),
            ),
            400: ERRORS[400],
            403: ERRORS[403],
        },
    )
    def create(self, request: Request) -> Response:
        """Open a ticket (for yourself; agents who log requests may name the requester)."""
        data = validated(s.TicketCreateSerializer, request)
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if len(key) > 255:
            raise ValidationError({"Idempotency-Key": [_("At most 255 characters.")]})
        source, ref = (
            services.external_ref_for_key(client=request.user, key=key) if key else ("", "")
        )
        ticket, created = services.ticket_create(
            requester=data["requester"],
            created_by=request.user,
            title=data["title"],
            description=data["description"],
            channel=data["channel"],
            request_type=data.get("request_type"),
            category=data.get("category"),
            system=data.get("system"),
            module=data.get("module"),
            impact=data.get("impact"),
            urgency=data.get("urgency"),
            external_source=source,
            external_ref=ref,
        )
        location = reverse("api-ticket-detail", args=[ticket.pk])
        if created and reactions.deferred(reactions.TICKET_CREATED):
            # Classification and routing run in the worker after this answer: the ticket just
            # written is the ticket as it is now, so it is answered without reading it again.
            data = s.TicketDetailSerializer(ticket, context={"request": request}).data
            response = Response(
                data, status=status.HTTP_201_CREATED, headers={"Location": location}
            )
            response["ETag"] = services.ticket_etag(ticket)
            return response
        return self.ticket_response(
            ticket,
            status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": location},
        )

    @extend_schema(responses={200: s.TicketEventSerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def timeline(self, request: Request, pk=None) -> Response:
        """The operation log, oldest first; requesters see its public part."""
        ticket = self.get_ticket()
        events = selectors.ticket_timeline(viewer=request.user, ticket=ticket)
        staff = selectors.viewer_is_staff_on(ticket, request.user)
        context = {"viewer_is_staff": staff}
        return Response(s.TicketEventSerializer(events, many=True, context=context).data)

    @extend_schema(responses={200: s.ActionsSerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def transitions(self, request: Request, pk=None) -> Response:
        """What you may do to the ticket now: each name is a POST endpoint below it."""
        ticket = self.get_ticket()
        return Response(
            {
                "status": ticket.status,
                "actions": actions.available(ticket=ticket, viewer=request.user),
            }
        )

    # --- the conversation -----------------------------------------------------------------

    @extend_schema(
        methods=["GET"], responses={200: s.CommentSerializer(many=True), 404: ERRORS[404]}
    )
    @extend_schema(
        methods=["POST"],
        request=s.CommentCreateSerializer,
        responses={201: s.CommentSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"])
    def comments(self, request: Request, pk=None) -> Response:
        """Public replies (and, for the desk, internal notes), oldest first; or add one."""
        ticket = self.get_ticket()
        if request.method == "GET":
            comments = selectors.ticket_comments(viewer=request.user, ticket=ticket)
            return Response(s.CommentSerializer(comments, many=True).data)
        data = validated(s.CommentCreateSerializer, request)
        comment = services.comment_add(
            ticket_id=ticket.pk,
            actor=request.user,
            body=data["body"],
            is_internal=data["is_internal"],
        )
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], responses={200: s.AttachmentSerializer(many=True), 404: ERRORS[404]}
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": s.AttachmentCreateSerializer},
        responses={201: s.AttachmentSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
    )
    def attachments(self, request: Request, pk=None) -> Response:
        """The ticket's files you may see; or upload one (multipart, field `file`)."""
        ticket = self.get_ticket()
        context = {"request": request}
        if request.method == "GET":
            attachments = selectors.ticket_attachments(viewer=request.user, ticket=ticket)
            return Response(s.AttachmentSerializer(attachments, many=True, context=context).data)
        data = validated(s.AttachmentCreateSerializer, request)
        attachment = services.attachment_add(
            ticket_id=ticket.pk,
            actor=request.user,
            upload=data["file"],
            is_internal=data["is_internal"],
        )
        return Response(
            s.AttachmentSerializer(attachment, context=context).data,
            status=status.HTTP_201_CREATED,
        )


def _action_endpoint(ticket_action: actions.TicketAction):
    """The POST endpoint of one catalogue action: its input serializer → its service → the
    ticket, documented with the action's own request schema."""

    def endpoint(self: TicketViewSet, request: Request, pk=None) -> Response:
        return self.transition(request, ticket_action)

    endpoint.__name__ = endpoint.__qualname__ = ticket_action.api_method or ticket_action.name
    endpoint.__doc__ = ticket_action.api_doc
    endpoint = action(
        detail=True, methods=["post"], url_path=ticket_action.name, url_name=ticket_action.name
    )(endpoint)
    return extend_schema(
        parameters=[IF_MATCH], request=ticket_action.serializer, responses=TRANSITION_RESPONSES
    )(endpoint)


for _ticket_action in actions.ACTIONS:
    setattr(
        TicketViewSet,
        _ticket_action.api_method or _ticket_action.name,
        _action_endpoint(_ticket_action),
    )


class AnyAcceptNegotiation(BaseContentNegotiation):
    """Downloads are files, not rendered data: never refuse a client for its Accept header."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AttachmentDownloadView(APIView):
    """A file of a ticket you may see (internal files only for the desk), as a download."""

    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: ERRORS[404],
        }
    )
    def get(self, request: Request, pk: str) -> FileResponse:
        try:
            attachment = selectors.attachment_get(viewer=request.user, attachment_id=parse_id(pk))
        except Attachment.DoesNotExist as exc:
            raise NotFound() from exc
        return attachment_response(attachment)
