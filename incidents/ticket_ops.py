"""The incident's own ticket is resolved by its recovery. `tickets.services` has no public
service for "the desk resolves this ticket, from whatever open status"; this runs the core's
system-only `resolve_with_incident` transition through the core's guarded helpers (lock, state
machine, log, reactions). The lead may move it into `tickets/services.py` as is."""

from __future__ import annotations

from django.db import transaction

from tickets import services as ticket_services
from tickets.choices import OPEN_STATUSES
from tickets.models import Ticket


@transaction.atomic
def ticket_resolve_incident(*, ticket_id: int, resolution: str) -> Ticket | None:
    """Resolve the incident's ticket if still open; None when it already was."""
    ticket = ticket_services._lock(ticket_id)
    if ticket.status not in OPEN_STATUSES:
        return None
    return ticket_services._apply(
        ticket,
        None,
        "resolve_with_incident",
        fields={"resolution", "resolved_at"},
        message=resolution,
        data={"source": "incident"},
        resolution=resolution,
    )
