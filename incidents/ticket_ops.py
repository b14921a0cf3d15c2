"""The incident's own ticket is resolved by its recovery. `tickets.services` has no public
service for "the desk resolves this ticket, from whatever open status"; this runs the core's
system-only `resolve_with_incident` transition through the core's guarded helpers (lock, state
machine, log, reactions). The lead may move it into `tickets/services.py` as is."""

from __future__ import annotations

from django.db import transaction

from tickets import services as ticket_services
from tickets.choices import OPEN_STATUSES, Status
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


# --- bulk moves for incidents with thousands of linked tickets ----------------------------------
# The core's `ticket_link_incident` / `ticket_resolve_linked` lock, save and log one ticket per
# statement round: ~10 statements a ticket, a minute for 5,000. These do the same moves a chunk
# at a time (one locking read, one UPDATE, one INSERT of the log rows per chunk), through the
# same state machine transition and the core's own log-row builder, and run the after-commit
# reactions in one `reactions.batch()`. The lead may fold them into `tickets/services.py`.

CHUNK = 500


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@transaction.atomic
def tickets_link_incident_many(*, ticket_ids: list[int], incident: Ticket) -> list[int]:
    """Link open tickets (not already linked elsewhere) to `incident`; one LINKED log entry
    each; returns the ids linked. Guards are the caller's (the incident service)."""
    from django.utils import timezone

    from tickets.choices import ActorKind, EventKind
    from tickets.models import TicketEvent

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
        TicketEvent.objects.bulk_create(
            [
                TicketEvent(
                    ticket=ticket,
                    kind=EventKind.LINKED,
                    actor=None,
                    actor_kind=ActorKind.SYSTEM,
                    new_value=incident.number,
                    message=incident.title,
                    created_at=now,
                )
                for ticket in tickets
            ]
        )
        linked += [t.pk for t in tickets]
    return linked


@transaction.atomic
def tickets_resolve_linked_many(*, incident_id: int, resolution: str) -> list[int]:
    """Resolve every open ticket linked to the incident ticket `incident_id` with the
    resolution (system transition `resolve_with_incident`, one status-change log entry each,
    STATUS_CHANGED reactions after commit); returns the ids resolved."""
    from django.utils import timezone
    from django_fsm import can_proceed

    from tickets import reactions
    from tickets.events import event_rows_for_changes, snapshot
    from tickets.models import TicketEvent

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
                 "actor_id": None}
            )  # fmt: skip
        Ticket.objects.filter(pk__in=[t.pk for t in moved]).update(
            status=Status.RESOLVED, resolution=resolution, resolved_at=now, updated_at=now
        )
        TicketEvent.objects.bulk_create(rows)

    def react() -> None:
        # Reference data the reactions read (SLA policies, calendars) is read once.
        with reactions.batch():
            for payload in payloads:
                reactions.dispatch(reactions.STATUS_CHANGED, payload)

    transaction.on_commit(react)
    return [p["ticket_id"] for p in payloads]
