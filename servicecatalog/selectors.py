"""Reads of the service catalogue."""

from __future__ import annotations

from itertools import groupby

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from tickets import selectors as ticket_selectors
from tickets.models import Ticket

from .models import Service, ServiceField, ServiceRequest


def services_offered(*, query: str = "", data_only: bool = False) -> QuerySet[Service]:
    """Services on offer (not retired), matching `query` in either language, in catalogue order."""
    qs = Service.objects.filter(is_active=True).select_related("group")
    if data_only:
        qs = qs.filter(is_data_service=True).select_related("owner_team")
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(name__icontains=query)
            | Q(name_zh__icontains=query)
            | Q(keywords__icontains=query)
            | Q(description__icontains=query)
            | Q(description_zh__icontains=query)
            | Q(dataset__icontains=query)
        )
    return qs.order_by("group__position", "group__code", "position", "code")


def catalogue_groups(*, query: str = "") -> list[tuple[object, list[Service]]]:
    """[(group, [services])] for the catalogue page, in one query."""
    return [
        (group, list(items))
        for group, items in groupby(services_offered(query=query), key=lambda s: s.group)
    ]


def service_get(*, code: str) -> Service:
    """An offered service with its form fields (one query each)."""
    return (
        Service.objects.filter(is_active=True)
        .select_related("group", "request_type")
        .prefetch_related(
            Prefetch("fields", queryset=ServiceField.objects.order_by("position", "pk"))
        )
        .get(code=code)
    )


def service_request_for(
    *, viewer: User, ticket_number: str
) -> tuple[Ticket, ServiceRequest | None]:
    """The ticket (scoped to the viewer: Ticket.DoesNotExist otherwise) and its catalogue
    answers, if it came through the catalogue."""
    ticket = ticket_selectors.ticket_get(viewer=viewer, number=ticket_number)
    request = ServiceRequest.objects.select_related("service").filter(ticket=ticket).first()
    return ticket, request
