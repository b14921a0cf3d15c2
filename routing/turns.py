"""Automatic assignment of a batch of tickets, as if they came one after another.

Each team's eligible members, their loads (least loaded) and its round-robin turn are read
once and kept in memory as the batch assigns, so a batch costs a few statements whatever its
size: the intake drain's new tickets (`services.routing_auto_route_many`) and an SLA sweep's
hand-overs (`handovers.routing_assign_in_team_many`) assign through it."""

from __future__ import annotations

from django.utils import timezone

from accounts.choices import AssignmentStrategy
from accounts.models import Team
from tickets.models import Ticket

from . import engine
from .models import RoundRobinCursor


class TeamTurns:
    def __init__(self) -> None:
        self.cursors = dict(RoundRobinCursor.objects.values_list("team_id", "last_assignee_id"))
        self.members: dict[int, list] = {}
        self.loads: dict[int, dict[int, int]] = {}

    def choose(self, ticket: Ticket, team: Team, priority: str):
        """(assignee or None, why) for the ticket in `team`, the batch's earlier choices
        counted: the chosen person's load grows by the ticket's weight and takes the turn."""
        if team.pk not in self.members:
            self.members[team.pk] = engine.eligible_memberships(team)
            if team.assignment_strategy == AssignmentStrategy.LEAST_LOADED:
                self.loads[team.pk] = engine.workloads([m.user_id for m in self.members[team.pk]])
        assignee, why = engine.choose_assignee(
            ticket,
            team,
            last_assignee_id=self.cursors.get(team.pk),
            members=self.members[team.pk],
            loads=self.loads.get(team.pk),
        )
        if assignee is not None:
            if team.pk in self.loads:
                self.loads[team.pk][assignee.pk] += engine.LOAD_WEIGHTS.get(priority, 1)
            self.cursors[team.pk] = assignee.pk
        return assignee, why

    def save(self, team_ids) -> None:
        """Store the round-robin turn of the teams that assigned someone."""
        now = timezone.now()
        for team_id in set(team_ids):
            RoundRobinCursor.objects.filter(team_id=team_id).update(
                last_assignee_id=self.cursors[team_id], updated_at=now
            )
