"""Moves the desk makes by itself for its integrations: an alert that recovered resolves its
ticket when nobody took it; a major incident's recovery resolves the incident's ticket and,
a chunk at a time, every ticket linked to it (thousands, in one transaction).

They run the core's system-only `resolve_with_incident` transition through the same guarded
helpers as every other service (lock, state machine, log, reactions). The bulk moves lock,
update and log a chunk per statement and run the after-commit reactions through the wiring's
batch entry point (`reactions.fire_many`).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from .. import reactions
from ..choices import OPEN_STATUSES, ActorKind, EventKind, Status
from ..events import event_record_many, event_row, event_rows_for_changes, snapshot
from ..models import Ticket, TicketEvent
from .common import _apply, _lock


def taken_by_an_agent(ticket: Ticket) -> bool:
    """A person at the desk acted on the ticket (took it, wrote, moved it). Routing's own
    automatic assignment is the desk's, not a person's: it does not count."""
    return TicketEvent.objects.filter(ticket=ticket, actor_kind=ActorKind.AGENT).exists()


@transaction.atomic
def ticket_resolve_cleared(*, ticket_id: int, resolution: str) -> Ticket | None:
    """Resolve a ticket whose alert recovered by itself, only while it is open and no agent has
    taken it (see `taken_by_an_agent`). Returns the ticket when it moved, else None. Side
    effects: the core's STATUS_CHANGED reactions (the requester is asked to confirm)."""
    ticket = _lock(ticket_id)
    if ticket.status not in OPEN_STATUSES or taken_by_an_agent(ticket):
        return None
    return _apply(
        ticket,
        None,
        "resolve_with_incident",
        fields={"resolution", "resolved_at"},
        message=resolution,
        data={"source": "alert"},
        resolution=resolution,
    )


@transaction.atomic
def ticket_resolve_incident(*, ticket_id: int, resolution: str) -> Ticket | None:
    """Resolve the incident's ticket if still open; None when it already was."""
    ticket = _lock(ticket_id)
    if ticket.status not in OPEN_STATUSES:
        return None
    return _apply(
        ticket,
        None,
        "resolve_with_incident",
        fields={"resolution", "resolved_at"},
        message=resolution,
        data={"source": "incident"},
        resolution=resolution,
    )


# --- bulk moves for incidents with thousands of linked tickets ----------------------------------
# The core's `ticket_link_incident` / `ticket_resolve_linked` lock, save and log one ticket per
# statement round: ~10 statements a ticket, a minute for 5,000. These do the same moves a chunk
# at a time (one locking read, one UPDATE, one INSERT of the log rows per chunk), through the
# same state machine transition and the core's own log-row builder, and run the after-commit
# reactions through the wiring's batch entry point (`reactions.fire_many`).

CHUNK = 500


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@transaction.atomic
def tickets_link_incident_many(*, ticket_ids: list[int], incident: Ticket) -> list[int]:
    """Link open tickets (not already linked elsewhere) to `incident`; one LINKED log entry
    each; returns the ids linked. Guards are the caller's (the incident service)."""

    linked: list[int] = []
    now = timezone.now()
    for chunk in _chunks(sorted(set(ticket_ids) - {incident.pk})):
        tickets = list(
            Ticket.objects.select_for_update(of=("self",))
            .filter(pk__in=chunk, status__in=OPEN_STATUSES, incident__isnull=True)
            .order_by("pk")
        )
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
            incident_id=incident.pk, updated_at=now
        )
        rows = []
        for ticket in tickets:
            row = event_row(
                ticket=ticket, kind=EventKind.LINKED, message=incident.title, created_at=now
            )
            row.new_value = incident.number
            rows.append(row)
        event_record_many(rows)
        linked += [t.pk for t in tickets]
    return linked


@transaction.atomic
def tickets_resolve_linked_many(*, incident_id: int, resolution: str) -> list[int]:
    """Resolve every open ticket linked to the incident ticket `incident_id` with the
    resolution (system transition `resolve_with_incident`, one status-change log entry each,
    STATUS_CHANGED reactions after commit); returns the ids resolved."""

    ids = list(
        Ticket.objects.filter(incident_id=incident_id, status__in=OPEN_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    payloads: list[dict] = []
    for chunk in _chunks(ids):
        tickets = list(
            Ticket.objects.select_for_update(of=("self",))
            .filter(pk__in=chunk, status__in=OPEN_STATUSES)
            .order_by("pk")
        )
        rows, moved = [], []
        for ticket in tickets:
            if not can_proceed(ticket.resolve_with_incident):
                continue
            before = snapshot(ticket)
            ticket.resolve_with_incident(resolution=resolution)
            # One resolution time for the whole recovery, so one UPDATE sets every row.
            ticket.resolved_at = ticket.updated_at = now
            rows += event_rows_for_changes(
                ticket=ticket,
                before=before,
                actor=None,
                message=resolution,
                data={"transition": "resolve_with_incident"},
            )
            moved.append(ticket)
            payloads.append(
                {"ticket_id": ticket.pk, "old": before["status"], "new": ticket.status,
                 "actor_id": None, "at": now.isoformat()}
            )  # fmt: skip
        Ticket.objects.filter(pk__in=[t.pk for t in moved]).update(
            status=Status.RESOLVED, resolution=resolution, resolved_at=now, updated_at=now
        )
        event_record_many(rows)

    # After commit, the STATUS_CHANGED chain for all of them at once (its batch forms: SLA
    # clocks met set-based, the requesters' "please confirm" in one INSERT).
    reactions.fire_many(reactions.STATUS_CHANGED, payloads)
    return [p["ticket_id"] for p in payloads]
