"""The catalogue API: list and read services (with their form), submit a request through a
service's form (the same validation as the web form: types, required, conditional fields, file
size), and read a ticket's structured answers."""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api import ERRORS
from tickets.choices import Channel
from tickets.models import Ticket

from .. import selectors
from ..forms import ServiceRequestForm
from ..models import Service
from ..services import service_request_submit
from . import serializers as s


def _service(code: str) -> Service:
    try:
        return selectors.service_get(code=code)
    except Service.DoesNotExist as exc:
        raise NotFound() from exc


class ServiceListView(APIView):
    @extend_schema(responses={200: s.ServiceSerializer(many=True)})
    def get(self, request: Request) -> Response:
        """Services on offer; `?q=` searches names, keywords and descriptions (en + zh)."""
        query = str(request.query_params.get("q", ""))[:100]
        services = selectors.services_offered(query=query)
        return Response(s.ServiceSerializer(services, many=True).data)


class ServiceDetailView(APIView):
    @extend_schema(responses={200: s.ServiceDetailSerializer, 404: ERRORS[404]})
    def get(self, request: Request, code: str) -> Response:
        """A service and its form's fields."""
        return Response(s.ServiceDetailSerializer(_service(code)).data)


def _as_querydict(data) -> QueryDict:
    if isinstance(data, QueryDict):
        return data
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})
    result = QueryDict(mutable=True)
    for key, value in data.items():
        values = value if isinstance(value, list) else [value]
        result.setlist(key, ["" if v is None else str(v) for v in values])
    return result


class ServiceRequestCreateView(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=None,
        responses={201: s.ServiceRequestSerializer, **ERRORS},
        description=(
            "Submit a request through the service's form: one key per field (`key` of the "
            "service's fields; a list for multi-choice; files as multipart), `impact` and "
            "`urgency` when the service asks, `requester` (user name) when an agent logs it on "
            "someone's behalf."
        ),
    )
    def post(self, request: Request, code: str) -> Response:
        service = _service(code)
        on_behalf = bool(request.data.get("requester")) and request.user.has_perm(
            "accounts.log_on_behalf"
        )
        form = ServiceRequestForm(
            _as_querydict(request.data), request.FILES, service=service, on_behalf=on_behalf
        )
        if not form.is_valid():
            raise ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
        data = form.cleaned_data
        created = service_request_submit(
            service=service,
            requester=data["requester_user"] if on_behalf else request.user,
            created_by=request.user,
            answers=form.answers(),
            impact=data.get("impact"),
            urgency=data.get("urgency"),
            channel=Channel.API,
        )
        return Response(s.ServiceRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class TicketAnswersView(APIView):
    @extend_schema(
        responses={200: s.ServiceRequestSerializer, 404: OpenApiResponse(description="Not found")}
    )
    def get(self, request: Request, number: str) -> Response:
        """The structured answers of a catalogue ticket the caller may see."""
        try:
            _ticket, found = selectors.service_request_for(
                viewer=request.user, ticket_number=number[:32]
            )
        except Ticket.DoesNotExist as exc:
            raise NotFound() from exc
        if found is None:
            raise NotFound()
        return Response(s.ServiceRequestSerializer(found).data)
