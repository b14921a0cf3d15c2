"""The desk's own functional escalation of many tickets at once (the SLA sweep's breaches)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from accounts.models import Team

from .. import reactions
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


# The fields the `escalate` transition sets, saved as it set them.
_ESCALATE_FIELDS = ("status", "tier", "team_id", "assignee_id", "pending_reason")


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
    by_outcome: dict[tuple, list[int]] = defaultdict(list)
    for ticket_id in first_snapshot:
        ticket = tickets[ticket_id]
        ticket.updated_at = now
        by_outcome[tuple(getattr(ticket, name) for name in _ESCALATE_FIELDS)].append(ticket_id)
    for values, ticket_ids in by_outcome.items():
        Ticket.objects.filter(pk__in=ticket_ids).update(
            **dict(zip(_ESCALATE_FIELDS, values, strict=True)), updated_at=now
        )
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
        for event, payload in change_events(ticket, before, None):
            fired[event].append(payload)
    # The reactions of the whole chunk as batches (the wiring's batch forms: the hand-over
    # assignments, stints and notifications in a few statements), not a chain per ticket.
    for event, payloads in fired.items():
        reactions.fire_many(event, payloads)
    return outcome
