"""Ticket moves the alerts app needs that `tickets.services` has no public service for yet.

A recovered alert resolves its ticket when nobody took it. The core's `resolve_with_incident`
transition (system only, from any open status) is the move; this module runs it through the
core's own guarded helpers so the lock, state machine, log and reactions are exactly the core's.
The lead may move `ticket_resolve_cleared` into `tickets/services.py` as is.
"""

from __future__ import annotations

from django.db import transaction

from tickets import services as ticket_services
from tickets.choices import OPEN_STATUSES, ActorKind
from tickets.models import Ticket, TicketEvent


def taken_by_an_agent(ticket: Ticket) -> bool:
    """A person at the desk acted on the ticket (took it, wrote, moved it). Routing's own
    automatic assignment is the desk's, not a person's: it does not count."""
    return TicketEvent.objects.filter(ticket=ticket, actor_kind=ActorKind.AGENT).exists()


@transaction.atomic
def ticket_resolve_cleared(*, ticket_id: int, resolution: str) -> Ticket | None:
    """Resolve a ticket whose alert recovered by itself, only while it is open and no agent has
    taken it (see `taken_by_an_agent`). Returns the ticket when it moved, else None. Side
    effects: the core's STATUS_CHANGED reactions (the requester is asked to confirm)."""
    ticket = ticket_services._lock(ticket_id)
    if ticket.status not in OPEN_STATUSES or taken_by_an_agent(ticket):
        return None
    return ticket_services._apply(
        ticket,
        None,
        "resolve_with_incident",
        fields={"resolution", "resolved_at"},
        message=resolution,
        data={"source": "alert"},
        resolution=resolution,
    )
