"""The desk's own functional escalation of many tickets at once (the SLA sweep's breaches), and
the assignment of the escalated tickets by the receiving teams' strategies, in bulk."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed
from psycopg2.extras import execute_values

from accounts.backends import holders_among
from accounts.models import Team, TeamMembership, User

from .. import reactions, wiring
from ..choices import Status
from ..events import (
    event_record_many,
    event_rows_for_changes,
    snapshot,
)
from ..exceptions import IllegalTransition
from ..models import Ticket
from .common import change_events


@dataclass(frozen=True)
class EscalationMove:
    """One functional escalation the desk makes by itself: a ticket to the next team."""

    ticket_id: int
    team: Team
    reason: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EscalationMoved:
    """What `ticket_escalate_many` did to one ticket: from where to where (several moves of
    one ticket in one call are folded into the first origin and the last destination)."""

    ticket_id: int
    old_tier: str
    old_team_id: int | None
    new_tier: str
    new_team_id: int | None


@dataclass
class EscalationOutcome:
    moved: list[EscalationMoved] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


# The fields the `escalate` (and a hand-over's `start_work`) transition sets, saved as set.
_ESCALATE_FIELDS = ("status", "tier", "team_id", "assignee_id", "pending_reason", "updated_at")
_SAVE_SQL = """
    UPDATE tickets_ticket AS t SET status = v.status, tier = v.tier, team_id = v.team_id,
        assignee_id = v.assignee_id, pending_reason = v.pending_reason, updated_at = v.updated_at
    FROM (VALUES %s) AS v(id, status, tier, team_id, assignee_id, pending_reason, updated_at)
    WHERE t.id = v.id
"""


def _save(tickets: list[Ticket]) -> None:
    """Save what `escalate` and `start_work` set on these tickets, in one UPDATE (each ticket
    has its own assignee and version, so statements grouped by outcome would be one a row)."""
    if not tickets:
        return
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor if hasattr(cursor, "cursor") else cursor,
            _SAVE_SQL,
            [(t.pk, *(getattr(t, name) for name in _ESCALATE_FIELDS)) for t in tickets],
            template="(%s::bigint, %s, %s, %s::bigint, %s::bigint, %s, %s::timestamptz)",
            page_size=1000,
        )


@transaction.atomic
def ticket_escalate_many(*, moves: list[EscalationMove]) -> EscalationOutcome:
    """The desk's own functional escalation of many tickets at once (the SLA sweep's breaches).

    Per ticket the same rules as `ticket_dispatch(escalation=True, actor=None)`: the state
    machine must allow `escalate`, and a ticket already queued for the target team is left.
    In bulk: the tickets are locked in id order in one query (so two sweeps cannot deadlock),
    moves run through the state machine in memory in the given order, what it set is saved
    with one UPDATE per distinct outcome, the log in one INSERT, and the reactions after
    commit. Returns the moves made and {ticket_id: why} for the moves refused.
    """
    ids = sorted({move.ticket_id for move in moves})
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
    }
    outcome = EscalationOutcome()
    first_snapshot: dict[int, dict[str, Any]] = {}
    rows = []
    for move in moves:
        ticket = tickets.get(move.ticket_id)
        if ticket is None:
            outcome.refused[move.ticket_id] = _("The ticket no longer exists.")
            continue
        if move.team.pk == ticket.team_id and ticket.status == Status.QUEUED:
            outcome.refused[ticket.pk] = _("The ticket is already queued for this team.")
            continue
        if not can_proceed(ticket.escalate):
            outcome.refused[ticket.pk] = str(
                IllegalTransition(transition="escalate", status=ticket.status, allowed=[])
            )
            continue
        before = snapshot(ticket)
        first_snapshot.setdefault(ticket.pk, before)
        ticket.escalate(tier=move.team.tier, team=move.team)
        rows += event_rows_for_changes(
            ticket=ticket,
            before=before,
            actor=None,
            message=move.reason,
            data={"transition": "escalate", **move.data},
        )
    now = timezone.now()
    for ticket_id in first_snapshot:
        tickets[ticket_id].updated_at = now
    escalated_fired = {
        ticket_id: change_events(tickets[ticket_id], before, None)
        for ticket_id, before in first_snapshot.items()
    }
    # The hand-overs left queued and unassigned: the receiving teams' strategies assign them in
    # this same write (wiring.HANDOVER_ASSIGNMENT); the reaction assigns whatever is left.
    handovers = [
        tickets[ticket_id]
        for ticket_id, before in first_snapshot.items()
        if tickets[ticket_id].status == Status.QUEUED
        and tickets[ticket_id].assignee_id is None
        and tickets[ticket_id].team_id != before["team_id"]
    ]
    assigned_fired: dict[int, list] = {}
    if handovers:
        entries, assigned_fired = _assign_handovers(handovers, now)
        rows += entries
    _save([tickets[ticket_id] for ticket_id in first_snapshot])
    event_record_many(rows)
    fired: dict[str, list[dict]] = defaultdict(list)
    for ticket_id, before in first_snapshot.items():
        ticket = tickets[ticket_id]
        outcome.moved.append(
            EscalationMoved(
                ticket_id=ticket_id,
                old_tier=before["tier"],
                old_team_id=before["team_id"],
                new_tier=ticket.tier,
                new_team_id=ticket.team_id,
            )
        )
        for event, payload in escalated_fired[ticket_id] + assigned_fired.get(ticket_id, []):
            fired[event].append(payload)
    # The reactions of the whole chunk as batches (the wiring's batch forms: the hand-over
    # assignments, stints and notifications in a few statements), not a chain per ticket.
    for event, payloads in fired.items():
        reactions.fire_many(event, payloads)
    return outcome


def _assign_handovers(handovers: list[Ticket], now) -> tuple[list, dict[int, list]]:
    """Give the hand-overs the assignees their new teams' strategies choose
    (`wiring.choose_handover_assignees`), in memory, as `ticket_assign` would (same guards);
    the caller saves them with the escalation. Returns the log rows and {ticket_id: the
    assignment's events}."""
    chosen = [
        QueueAssignment(ticket, assignee, why)
        for ticket, assignee, why in wiring.choose_handover_assignees(handovers)
    ]
    refused = _assignment_refusals(chosen)
    # The assignment's own version, a microsecond after the escalation's: each change keeps its
    # `at` (the reactions' dedupe key), as intake's classify → route → assign does.
    assigned_at = now + timedelta(microseconds=1)
    rows: list = []
    fired: dict[int, list] = {}
    for assignment in chosen:
        ticket = assignment.ticket
        if ticket.pk in refused or not can_proceed(ticket.start_work):
            continue
        entries, fired[ticket.pk] = _start_work(assignment, assigned_at)
        rows += entries
    return rows, fired


def _start_work(assignment: QueueAssignment, at) -> tuple[list, list]:
    """`ticket_assign(actor=None)` of a queued ticket in memory, as version `at`: its log rows
    and the change's events (the caller saves, records and fires them with its batch)."""
    ticket = assignment.ticket
    before = snapshot(ticket)
    ticket.start_work(assignee=assignment.assignee)
    ticket.updated_at = at
    rows = event_rows_for_changes(
        ticket=ticket,
        before=before,
        actor=None,
        message=assignment.reason,
        data={"transition": "start_work"},
    )
    return rows, change_events(ticket, before, None)


@dataclass(frozen=True)
class QueueAssignment:
    """The desk gives a queued ticket (locked by the caller) to a member of its team."""

    ticket: Ticket
    assignee: User
    reason: str


def _assignment_refusals(assignments: list[QueueAssignment]) -> dict[int, str]:
    """{ticket_id: why} for the assignments `ticket_assign` would refuse: the assignee is not
    a member of the ticket's team, or not an agent (two queries for the whole batch)."""
    if not assignments:
        return {}
    user_ids = {a.assignee.pk for a in assignments}
    members = set(
        TeamMembership.objects.filter(
            user_id__in=user_ids, team_id__in={a.ticket.team_id for a in assignments}
        ).values_list("user_id", "team_id")
    )
    agents = holders_among("accounts.handle_tickets", user_ids)
    refused: dict[int, str] = {}
    for assignment in assignments:
        ticket, assignee = assignment.ticket, assignment.assignee
        if ticket.team_id is not None and (assignee.pk, ticket.team_id) not in members:
            refused[ticket.pk] = _("%(user)s is not in the ticket's team.") % {"user": assignee}
        elif assignee.pk not in agents:
            refused[ticket.pk] = _("%(user)s is not an agent.") % {"user": assignee}
    return refused


@transaction.atomic
def ticket_assign_queued_many(*, assignments: list[QueueAssignment]) -> dict[int, str]:
    """`ticket_assign(actor=None)` of many queued tickets at once (routing assigning the
    tickets an SLA sweep handed over, by each team's strategy).

    Guards per ticket, as `ticket_assign`: the assignee is an agent and a member of the
    ticket's team, and the state machine allows `start_work` (the ticket is still queued).
    The caller holds the tickets' locks (`lock_new_tickets`). Writes one UPDATE, one INSERT
    of log entries, and runs the changes' reactions after commit as batches
    (`reactions.fire_many`). Returns {ticket_id: why} for those refused.
    """
    if not assignments:
        return {}
    refused = _assignment_refusals(assignments)
    now = timezone.now()
    rows, fired, saved = [], [], []
    for assignment in assignments:
        ticket = assignment.ticket
        if ticket.pk in refused:
            continue
        if ticket.status != Status.QUEUED or not can_proceed(ticket.start_work):
            refused[ticket.pk] = str(
                IllegalTransition(transition="start_work", status=ticket.status, allowed=[])
            )
            continue
        entries, events = _start_work(assignment, now)
        rows += entries
        fired += events
        saved.append(ticket)
    _save(saved)
    event_record_many(rows)
    by_event: dict[str, list[dict]] = defaultdict(list)
    for event, payload in fired:
        by_event[event].append(payload)
    # As the escalation's own: the reactions of the whole batch as batches (the new
    # assignees told in a few statements), not a chain per ticket.
    for event, payloads in by_event.items():
        reactions.fire_many(event, payloads)
    return refused
