"""Automatic routing of a batch of new tickets in a few statements (the intake drain).

The bulk form of what routing does per ticket with `ticket_classify`, the classification
entry, then `ticket_send_to_triage` or `ticket_route` and `ticket_assign` (all with
`actor=None`): the same transitions through the state machine, the same log entries and the
same reactions, but the tickets locked in one query, saved in one UPDATE and logged in one
INSERT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_fsm import can_proceed
from psycopg2.extras import execute_values

from accounts.models import Team, User

from .. import reactions
from ..choices import EventKind, Status
from ..events import event_record_many, event_row, event_rows_for_changes, snapshot
from ..exceptions import IllegalTransition
from ..models import Ticket
from .common import change_events

# What a move may classify (`ticket_classify`'s fields), in the order it sets them.
CLASSIFY_FIELDS = (
    "request_type",
    "category",
    "impact",
    "urgency",
    "priority",
    "classification_confidence",
)


@dataclass
class IntakeMove:
    """What automatic routing decided for one new ticket: its classification (`classify`:
    field → value, None = leave), the summary logged with it, and then either manual triage
    (`triage_reason`) or a team (with the reason), and an assignee or why there is none."""

    ticket: Ticket
    classify: dict[str, Any]
    summary: str
    data: dict = field(default_factory=dict)
    triage_reason: str = ""
    team: Team | None = None
    route_reason: str = ""
    assignee: User | None = None
    assign_reason: str = ""
    queue_note: str = ""


_UPDATE_SQL = """
    UPDATE tickets_ticket AS t SET
        request_type_id = v.request_type_id, category_id = v.category_id, impact = v.impact,
        urgency = v.urgency, priority = v.priority,
        classification_confidence = v.classification_confidence,
        needs_triage = v.needs_triage, tier = v.tier, team_id = v.team_id, status = v.status,
        assignee_id = v.assignee_id, updated_at = v.updated_at
    FROM (VALUES %s) AS v(id, request_type_id, category_id, impact, urgency, priority,
        classification_confidence, needs_triage, tier, team_id, status, assignee_id, updated_at)
    WHERE t.id = v.id
"""
_UPDATE_TEMPLATE = (
    "(%s::bigint, %s::bigint, %s::bigint, %s::smallint, %s::smallint, %s, %s::double precision,"
    " %s::boolean, %s, %s::bigint, %s, %s::bigint, %s::timestamptz)"
)


def lock_new_tickets(ticket_ids: list[int]) -> dict[int, Ticket]:
    """The tickets, locked in id order in one query (two batches cannot deadlock), with what
    routing reads of them."""
    return {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=sorted(ticket_ids))
        .select_related("request_type", "category", "system", "module")
        .order_by("pk")
    }


@transaction.atomic
def ticket_route_new_many(*, moves: list[IntakeMove]) -> list[Ticket]:
    """Classify and route (or send to manual triage) many new tickets, as the desk.

    Guards: the caller locked the tickets (`lock_new_tickets`); a ticket no longer new, or
    whose transition the state machine refuses, raises IllegalTransition before anything is
    written. Writes one UPDATE and one INSERT of log entries; the reactions of each change
    (priority, status, assignment) fire after commit, each change with its own version
    (`at`), as the services one by one would.
    """
    now = timezone.now()
    rows, fired, saved = [], [], []
    for move in moves:
        ticket = move.ticket
        if ticket.status != Status.NEW:
            raise IllegalTransition(transition="route", status=ticket.status, allowed=[])
        versions = iter(now + timedelta(microseconds=n) for n in range(3))
        # 1. The classification, as `ticket_classify` logs it.
        before = snapshot(ticket)
        for name in CLASSIFY_FIELDS:
            if (value := move.classify.get(name)) is not None:
                setattr(ticket, name, value)
        ticket.updated_at = next(versions)
        confidence = move.classify.get("classification_confidence")
        rows += event_rows_for_changes(
            ticket=ticket,
            before=before,
            message=move.summary,
            data={"confidence": confidence, **move.data},
        )
        fired += change_events(ticket, before, None)
        rows.append(
            event_row(
                ticket=ticket,
                kind=EventKind.CLASSIFIED,
                message=move.summary,
                is_public=False,
                data=move.data,
            )
        )
        if move.team is None:
            # 2a. Manual triage, as `ticket_send_to_triage`.
            ticket.needs_triage = True
            rows.append(
                event_row(
                    ticket=ticket,
                    kind=EventKind.TRIAGE,
                    message=move.triage_reason,
                    is_public=False,
                    data=move.data,
                )
            )
            saved.append(ticket)
            continue
        # 2b. The queue of a team, as `ticket_route`.
        if not can_proceed(ticket.route):
            raise IllegalTransition(transition="route", status=ticket.status, allowed=[])
        before = snapshot(ticket)
        ticket.route(tier=move.team.tier, team=move.team)
        ticket.updated_at = next(versions)
        rows += event_rows_for_changes(
            ticket=ticket,
            before=before,
            message=move.route_reason,
            data={"transition": "route", **move.data},
        )
        fired += change_events(ticket, before, None)
        # 3. Given to a member (`ticket_assign` → start_work), or left in the queue.
        if move.assignee is not None:
            before = snapshot(ticket)
            ticket.start_work(assignee=move.assignee)
            ticket.updated_at = next(versions)
            rows += event_rows_for_changes(
                ticket=ticket,
                before=before,
                message=move.assign_reason,
                data={"transition": "start_work"},
            )
            fired += change_events(ticket, before, None)
        elif move.queue_note:
            rows.append(
                event_row(
                    ticket=ticket, kind=EventKind.ROUTED, message=move.queue_note, is_public=False
                )
            )
        saved.append(ticket)
    _update(saved)
    event_record_many(rows)
    for event, payload in fired:
        reactions.fire(event, **payload)
    return saved


def _update(tickets: list[Ticket]) -> None:
    if not tickets:
        return
    values = [
        (
            t.pk,
            t.request_type_id,
            t.category_id,
            t.impact,
            t.urgency,
            t.priority,
            t.classification_confidence,
            t.needs_triage,
            t.tier,
            t.team_id,
            t.status,
            t.assignee_id,
            t.updated_at,
        )
        for t in tickets
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor if hasattr(cursor, "cursor") else cursor,
            _UPDATE_SQL,
            values,
            template=_UPDATE_TEMPLATE,
            page_size=1000,
        )
