"""The SLA API: a ticket's timers and the compliance numbers of the dashboard."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.models import Ticket
from tickets.selectors import ticket_get, viewer_is_staff_on

from .. import selectors
from . import serializers as s


class TicketTimersView(APIView):
    """GET the SLA clocks of a ticket (desk staff on the ticket only)."""

    @extend_schema(responses={200: s.SlaTimerSerializer(many=True)})
    def get(self, request: Request, ticket_id: int) -> Response:
        try:
            ticket = ticket_get(viewer=request.user, ticket_id=ticket_id)
        except Ticket.DoesNotExist as exc:
            raise NotFound() from exc
        if not viewer_is_staff_on(ticket, request.user):
            raise PermissionDenied(_("Only the desk sees SLA clocks."))
        timers = selectors.ticket_timers(ticket=ticket).order_by("id")
        return Response(s.SlaTimerSerializer(timers, many=True).data)


class ComplianceView(APIView):
    """GET SLA compliance per priority, team and tier, and the breached / at-risk lists."""

    @extend_schema(
        parameters=[
            OpenApiParameter("date_from", str, required=True, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", str, required=True, description="YYYY-MM-DD"),
        ],
        responses={200: s.ComplianceSerializer},
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("accounts.view_reports"):
            raise PermissionDenied()
        period = s.PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        data = selectors.sla_compliance(viewer=request.user, **period.validated_data)
        return Response(s.ComplianceSerializer(data).data)
