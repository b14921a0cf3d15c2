"""The routing API: an agent corrects a ticket's classification; the middle office sends a
ticket to the back-office team that owns its system. Input serializer → service → the ticket
as the ticket API shows it."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api import ERRORS, action_responses, conflict, parse_id, validated
from tickets.api import serializers as ticket_serializers
from tickets.exceptions import TicketError
from tickets.models import Ticket
from tickets.selectors import ticket_get

from .. import selectors, services
from . import serializers as s

# The answers of an action on a ticket: the ticket as the ticket API shows it, or an error.
TICKET_ACTION_RESPONSES = action_responses(ticket_serializers.TicketDetailSerializer)


class _TicketActionView(APIView):
    def get_ticket(self, request: Request, pk: str) -> Ticket:
        try:
            return selectors.ticket_for_routing(viewer=request.user, ticket_id=parse_id(pk))
        except Ticket.DoesNotExist as exc:
            raise NotFound() from exc

    def act(self, request: Request, pk: str, serializer_class, perform: Callable) -> Response:
        ticket = self.get_ticket(request, pk)
        data = validated(serializer_class, request)
        try:
            perform(ticket, data)
        except TicketError as exc:  # an impossible transition, or a concurrent change
            return conflict(str(exc), allowed=getattr(exc, "allowed", []))
        try:
            current = ticket_get(viewer=request.user, ticket_id=ticket.pk)
        except Ticket.DoesNotExist:  # passed on to a team the caller is not in
            current = Ticket.objects.get(pk=ticket.pk)
        output = ticket_serializers.TicketDetailSerializer(current, context={"request": request})
        return Response(output.data)


class ClassifyView(_TicketActionView):
    """Correct (or confirm) the ticket's classification: logged as yours, and it becomes
    training data. A new ticket is routed by it; a queued or owned one follows a new team."""

    @extend_schema(request=s.ClassifySerializer, responses=TICKET_ACTION_RESPONSES)
    def post(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            pk,
            s.ClassifySerializer,
            lambda ticket, data: services.routing_correct(
                ticket_id=ticket.pk, actor=request.user, **data
            ),
        )


class DispatchToOwnerView(_TicketActionView):
    """The middle office sends the ticket to the back-office team that owns its system."""

    @extend_schema(request=None, responses={**TICKET_ACTION_RESPONSES, 400: ERRORS[400]})
    def post(self, request: Request, pk: str) -> Response:
        return self.act(
            request,
            pk,
            s.EmptySerializer,
            lambda ticket, data: services.routing_dispatch_to_owner(
                ticket_id=ticket.pk, actor=request.user
            ),
        )
