"""Helpers of the ticket API tests: clients for a person and tickets in a given state."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import Tier
from tickets import services
from tickets.choices import Status
from tickets.models import Ticket


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def new_ticket(desk, *, requester=None, title: str = "Printer jammed", **kwargs) -> Ticket:
    requester = requester or desk.requester
    ticket, _ = services.ticket_create(
        requester=requester, created_by=requester, title=title, **kwargs
    )
    return ticket


def queued_ticket(desk, **kwargs) -> Ticket:
    ticket = new_ticket(desk, **kwargs)
    return services.ticket_route(ticket_id=ticket.pk, actor=None, tier=Tier.FRONT, team=desk.front)


def working_ticket(desk, **kwargs) -> Ticket:
    """In progress at the front office, owned by tier 1."""
    ticket = queued_ticket(desk, **kwargs)
    return services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)


def ticket_in_status(desk, status: str) -> Ticket:
    """A front-office ticket owned by tier 1, forced into `status` (tests only: the services
    are the only way in production)."""
    return force_status(working_ticket(desk), status)


def force_status(ticket: Ticket, status: str) -> Ticket:
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status,
        resolved_at=now if status in (Status.RESOLVED, Status.CLOSED) else None,
        closed_at=now if status in (Status.CLOSED, Status.CANCELLED) else None,
    )
    return Ticket.objects.get(pk=ticket.pk)
