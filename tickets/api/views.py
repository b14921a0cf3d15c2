"""The ticket API: reads through the viewer-scoped selectors, writes through the services.

Every endpoint is one action. A ticket the caller may not see is a 404 whatever the reason
(no such id, someone else's ticket, not even a number), so ids do not leak. Errors are JSON:
field messages (400), permission (403), an impossible action from the ticket's status (409 with
the actions allowed now), somebody else acting on the ticket at the same moment (409).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
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

from servicedesk.api import conflict

from .. import reactions, selectors, services
from ..choices import Status
from ..exceptions import ConcurrentModification, IllegalTransition
from ..models import Attachment, Ticket
from ..selectors import TicketFilters
from ..views import attachment_response
from . import serializers as s

ERRORS = {
    400: OpenApiResponse(description=gettext_lazy("Field messages: {field: [message, ...]}.")),
    403: OpenApiResponse(s.ErrorSerializer, description=gettext_lazy("Not allowed for you.")),
    404: OpenApiResponse(
        s.ErrorSerializer, description=gettext_lazy("No such ticket that you may see.")
    ),
}
TRANSITION_RESPONSES = {
    200: s.TicketDetailSerializer,
    **ERRORS,
    409: OpenApiResponse(
        s.ConflictSerializer,
        description=gettext_lazy(
            "Not possible from the ticket's status (`allowed` lists what is), or someone else "
            "changed the ticket at the same moment."
        ),
    ),
}
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
            if not (position.isascii() and position.isdigit() and int(position) <= s.MAX_ID):
                raise NotFound(self.invalid_cursor_message)
        return cursor


def parse_id(value) -> int:
    """An id from the URL; anything that cannot be one is a 404, never a database error."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or int(text) > s.MAX_ID or int(text) < 1:
        raise NotFound()
    return int(text)


def validated(serializer_class, request: Request, data=None) -> dict:
    serializer = serializer_class(
        data=request.data if data is None else data, context={"request": request}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


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

    def illegal(self, exc: IllegalTransition, ticket: Ticket, name: str) -> Response:
        try:
            current = selectors.ticket_get(viewer=self.request.user, ticket_id=ticket.pk)
        except Ticket.DoesNotExist:
            current, allowed = ticket, []
        else:
            allowed = selectors.ticket_actions(ticket=current, viewer=self.request.user)
        detail = _("“%(action)s” is not possible while the ticket is “%(status)s”.") % {
            "action": name,
            "status": Status(current.status).label,
        }
        return conflict(detail, status=current.status, allowed=allowed)

    def transition(
        self, request: Request, serializer_class, perform: Callable[[Ticket, dict], object]
    ) -> Response:
        """Input serializer → service → output serializer, with the 409 mapping."""
        ticket = self.get_ticket()
        data = validated(serializer_class, request)
        if_match = request.headers.get("If-Match")
        try:
            if if_match:
                # Lost-update protection: the change applies only to the version the client saw.
                with transaction.atomic():
                    services.ticket_check_unchanged(ticket_id=ticket.pk, etag=if_match)
                    perform(ticket, data)
            else:
                perform(ticket, data)
        except IllegalTransition as exc:
            return self.illegal(exc, ticket, self.action.removesuffix("_to_team"))
        except ConcurrentModification as exc:
            return conflict(str(exc))
        return self.ticket_response(ticket)

    # --- reads and intake -----------------------------------------------------------------

    @extend_schema(
        parameters=[s.TicketListQuerySerializer],
        responses={200: s.TicketListSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request: Request) -> Response:
        """Tickets you may see, newest first, 50 a page (`next`/`previous` cursors)."""
        query = validated(s.TicketListQuerySerializer, request, request.query_params)
        filters = TicketFilters(
            status=query.get("status", []),
            open_only=query["open"],
            priority=query.get("priority", []),
            request_type=query.get("request_type", []),
            system=query.get("system", []),
            team=query.get("team", []),
            tier=query.get("tier", []),
            unit=query.get("unit"),
            assignee=query.get("assignee"),
            unassigned=query["unassigned"],
            requester=query.get("requester"),
            needs_triage=query["needs_triage"],
            q=query["q"],
        )
        page = self.paginate_queryset(selectors.ticket_list(viewer=request.user, filters=filters))
        data = s.TicketListSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

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
        return Response(s.TicketEventSerializer(events, many=True).data)

    @extend_schema(responses={200: s.ActionsSerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def transitions(self, request: Request, pk=None) -> Response:
        """What you may do to the ticket now: each name is a POST endpoint below it."""
        ticket = self.get_ticket()
        return Response(
            {
                "status": ticket.status,
                "actions": selectors.ticket_actions(ticket=ticket, viewer=request.user),
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

    # --- one endpoint per action ----------------------------------------------------------

    @extend_schema(parameters=[IF_MATCH], request=s.RouteSerializer, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"])
    def route(self, request: Request, pk=None) -> Response:
        """Triage a new ticket: put it in a team's queue (at that team's tier)."""
        return self.transition(
            request,
            s.RouteSerializer,
            lambda t, d: services.ticket_route(
                ticket_id=t.pk,
                actor=request.user,
                tier=d["team"].tier,
                team=d["team"],
                reason=d["reason"],
            ),
        )

    @extend_schema(parameters=[IF_MATCH], request=s.EmptySerializer, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk=None) -> Response:
        """Take a queued ticket yourself. If someone took it first: 409."""
        return self.transition(
            request,
            s.EmptySerializer,
            lambda t, d: services.ticket_take(
                ticket_id=t.pk, actor=request.user, from_queue_only=True
            ),
        )

    @extend_schema(
        parameters=[IF_MATCH], request=s.AssignSerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk=None) -> Response:
        """Give the ticket to a member of its team (starts work on a queued ticket)."""
        return self.transition(
            request,
            s.AssignSerializer,
            lambda t, d: services.ticket_assign(
                ticket_id=t.pk, actor=request.user, assignee=d["assignee"], reason=d["reason"]
            ),
        )

    @extend_schema(
        parameters=[IF_MATCH], request=s.DispatchSerializer, responses=TRANSITION_RESPONSES
    )
    # Not named `dispatch`: that is APIView's request entry point.
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to_team(self, request: Request, pk=None) -> Response:
        """Dispatch (派单) to another team, with a reason; it lands unassigned in its queue."""
        return self.transition(
            request,
            s.DispatchSerializer,
            lambda t, d: services.ticket_dispatch(
                ticket_id=t.pk, actor=request.user, team=d["team"], reason=d["reason"]
            ),
        )

    @extend_schema(
        parameters=[IF_MATCH], request=s.EscalateSerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk=None) -> Response:
        """Escalate to the next team of the chain (or the team given), with a reason."""

        def perform(ticket: Ticket, data: dict):
            team = data.get("team") or (ticket.team.escalates_to if ticket.team else None)
            if team is None:
                raise ValidationError(
                    {"team": [_("This ticket's team has no next team; choose one.")]}
                )
            return services.ticket_dispatch(
                ticket_id=ticket.pk,
                actor=request.user,
                team=team,
                reason=data["reason"],
                escalation=True,
            )

        return self.transition(request, s.EscalateSerializer, perform)

    @extend_schema(
        parameters=[IF_MATCH], request=s.SuspendSerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk=None) -> Response:
        """Pending on someone outside the desk (挂起); `reason` says who."""
        return self.transition(
            request,
            s.SuspendSerializer,
            lambda t, d: services.ticket_suspend(
                ticket_id=t.pk, actor=request.user, reason=d["reason"], note=d["note"]
            ),
        )

    @extend_schema(parameters=[IF_MATCH], request=s.NoteSerializer, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk=None) -> Response:
        """Back to work on a pending ticket."""
        return self.transition(
            request,
            s.NoteSerializer,
            lambda t, d: services.ticket_resume(ticket_id=t.pk, actor=request.user, note=d["note"]),
        )

    @extend_schema(
        parameters=[IF_MATCH], request=s.ResolveSerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk=None) -> Response:
        """Resolve with a resolution; from the back office this submits the fix for
        verification by the middle office."""
        return self.transition(
            request,
            s.ResolveSerializer,
            lambda t, d: services.ticket_resolve(
                ticket_id=t.pk, actor=request.user, resolution=d["resolution"]
            ),
        )

    @extend_schema(
        parameters=[IF_MATCH], request=s.VerifySerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk=None) -> Response:
        """Verify a back-office fix: passed → the requester is asked to confirm; failed (the
        note says why) → back to the back office."""
        return self.transition(
            request,
            s.VerifySerializer,
            lambda t, d: services.ticket_verify(
                ticket_id=t.pk, actor=request.user, passed=d["passed"], note=d["note"]
            ),
        )

    @extend_schema(parameters=[IF_MATCH], request=s.NoteSerializer, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk=None) -> Response:
        """The requester confirms the fix: closed."""
        return self.transition(
            request,
            s.NoteSerializer,
            lambda t, d: services.ticket_confirm(
                ticket_id=t.pk, actor=request.user, note=d["note"]
            ),
        )

    @extend_schema(
        parameters=[IF_MATCH], request=s.ReasonSerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk=None) -> Response:
        """The requester says it is not fixed (reason required): back to its owner."""
        return self.transition(
            request,
            s.ReasonSerializer,
            lambda t, d: services.ticket_reject(
                ticket_id=t.pk, actor=request.user, reason=d["reason"]
            ),
        )

    @extend_schema(
        parameters=[IF_MATCH], request=s.ReasonSerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk=None) -> Response:
        """Reopen a closed ticket within the reopen window (reason required)."""
        return self.transition(
            request,
            s.ReasonSerializer,
            lambda t, d: services.ticket_reopen(
                ticket_id=t.pk, actor=request.user, reason=d["reason"]
            ),
        )

    @extend_schema(
        parameters=[IF_MATCH], request=s.ReasonSerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        """Withdraw (requester) or reject as invalid (agent, reason required)."""
        return self.transition(
            request,
            s.ReasonSerializer,
            lambda t, d: services.ticket_cancel(
                ticket_id=t.pk, actor=request.user, reason=d["reason"]
            ),
        )

    @extend_schema(parameters=[IF_MATCH], request=s.MergeSerializer, responses=TRANSITION_RESPONSES)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk=None) -> Response:
        """Merge this duplicate into another open ticket (by number or id)."""

        def perform(ticket: Ticket, data: dict):
            into = data["into"].strip()
            try:
                if into.isascii() and into.isdigit():
                    target = selectors.ticket_get(viewer=request.user, ticket_id=parse_id(into))
                else:
                    target = selectors.ticket_get(viewer=request.user, number=into)
            except (Ticket.DoesNotExist, NotFound) as exc:
                raise ValidationError({"into": [_("No such ticket.")]}) from exc
            return services.ticket_merge(
                ticket_id=ticket.pk, actor=request.user, into=target, reason=data["reason"]
            )

        return self.transition(request, s.MergeSerializer, perform)

    @extend_schema(
        parameters=[IF_MATCH], request=s.PrioritySerializer, responses=TRANSITION_RESPONSES
    )
    @action(detail=True, methods=["post"])
    def priority(self, request: Request, pk=None) -> Response:
        """Override the computed priority (reason required)."""
        return self.transition(
            request,
            s.PrioritySerializer,
            lambda t, d: services.ticket_set_priority(
                ticket_id=t.pk, actor=request.user, priority=d["priority"], reason=d["reason"]
            ),
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
