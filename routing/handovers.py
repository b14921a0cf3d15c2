"""Assignment of many hand-overs at once (an SLA sweep escalating a chunk of tickets to the
next teams): the batch form of `services.routing_assign_in_team`, in its own module because
`services.py` is at the size the project allows for a module."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from accounts.choices import AssignmentStrategy
from accounts.models import Team
from tickets import services as ticket_services
from tickets.choices import EventKind, Status
from tickets.events import event_record_many, event_row

from .services import routing_lock_assignment
from .turns import TeamTurns

logger = logging.getLogger(__name__)


def choose_for_handovers(*, tickets: list) -> list[tuple]:
    """The assignees the receiving teams' strategies give hand-overs the ticket core is making
    (tickets locked and already moved, queued and unassigned, in memory), as (ticket, person,
    why), chosen as `routing_assign_in_team_many` chooses: the receiving teams' assignment
    locks, each team's members, loads and turn read once, the turns stored. Only choices:
    tickets a team leaves in its queue (by hand, by skills, nobody eligible) are left to the
    ASSIGNMENT_CHANGED reaction, which notes why (`tickets.wiring.HANDOVER_ASSIGNMENT`)."""
    candidates = [
        t
        for t in sorted(tickets, key=lambda t: t.pk)
        if t.team is not None
        and t.team.assignment_strategy
        in (AssignmentStrategy.ROUND_ROBIN, AssignmentStrategy.LEAST_LOADED)
    ]
    if not candidates:
        return []
    # Only the receiving teams' locks: a chunk handing over to the middle office does not
    # wait for one handing over to the back office.
    routing_lock_assignment(ticket.team_id for ticket in candidates)
    turns = TeamTurns()
    chosen = []
    for ticket in candidates:
        assignee, why = turns.choose(ticket, ticket.team, ticket.priority)
        if assignee is not None:
            chosen.append((ticket, assignee, why))
    turns.save(ticket.team_id for ticket, _assignee, _why in chosen)
    return chosen


def routing_assign_in_team_many(*, handovers: dict[int, int]) -> list[int]:
    """`routing_assign_in_team` for many hand-overs at once ({ticket_id: team_id}: an SLA
    sweep's escalations), in a few statements: the receiving teams' assignment locks taken in
    team order, the tickets locked in one query, each team's members, loads and round-robin
    turn read once and kept in memory as the batch assigns (as if the tickets came one after
    another), then one bulk assignment (`ticket_assign_queued_many`) and one INSERT of the
    notes of tickets left in the queue. Tickets no longer queued, unassigned, for that team
    are left alone. Returns the ids to assign one by one (teams assigning by skills)."""
    if not handovers:
        return []
    routing_lock_assignment(handovers.values())
    tickets = ticket_services.lock_new_tickets(list(handovers))
    teams = Team.objects.in_bulk(set(handovers.values()))
    turns = TeamTurns()
    assignments, notes, one_by_one = [], [], []
    for ticket_id in sorted(handovers):
        ticket, team = tickets.get(ticket_id), teams.get(handovers[ticket_id])
        if ticket is None or team is None:
            continue
        if ticket.status != Status.QUEUED or ticket.assignee_id or ticket.team_id != team.pk:
            continue
        if team.assignment_strategy == AssignmentStrategy.SKILL:
            one_by_one.append(ticket_id)
            continue
        assignee, why = turns.choose(ticket, team, ticket.priority)
        if assignee is None:
            notes.append(
                event_row(ticket=ticket, kind=EventKind.ROUTED, message=why, is_public=False)
            )
            continue
        assignments.append(ticket_services.QueueAssignment(ticket, assignee, why))
    refused = ticket_services.ticket_assign_queued_many(assignments=assignments)
    for assignment in assignments:
        if assignment.ticket.pk in refused:
            logger.warning(
                "automatic assignment of ticket %s failed: %s",
                assignment.ticket.pk,
                refused[assignment.ticket.pk],
            )
            notes.append(
                event_row(
                    ticket=assignment.ticket,
                    kind=EventKind.ROUTED,
                    message=_("Automatic assignment failed: %(error)s")
                    % {"error": refused[assignment.ticket.pk]},
                    is_public=False,
                )
            )
    event_record_many(notes)
    turns.save(a.ticket.team_id for a in assignments if a.ticket.pk not in refused)
    return one_by_one
