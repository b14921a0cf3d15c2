"""A ticket handed to another team is assigned by that team's strategy, as at intake; a call
logged by a front-office agent stays with that agent (first contact)."""

from __future__ import annotations

import pytest

from accounts.choices import AssignmentStrategy
from accounts.models import TeamMembership
from notifications.models import Notification
from routing.models import RoundRobinCursor
from routing.reactions import on_assignments_changed
from tickets import services
from tickets.choices import Channel, EventKind, Status
from tickets.models import Ticket, TicketEvent

from .test_routing import type_rule

pytestmark = pytest.mark.django_db


def test_dispatch_assigns_by_the_receiving_teams_strategy(
    desk, create, django_capture_on_commit_callbacks
):
    type_rule("consultation")
    ticket = create("[consultation] which printer driver?")
    assert ticket.team == desk.front and ticket.assignee is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_dispatch(
            ticket_id=ticket.pk, actor=ticket.assignee, team=desk.middle, reason="needs an expert"
        )
    ticket.refresh_from_db()
    # The middle office assigns round robin: its only member.
    assert (ticket.team, ticket.status, ticket.assignee) == (
        desk.middle,
        Status.IN_PROGRESS,
        desk.expert,
    )


def test_a_manual_team_keeps_a_handed_over_ticket_in_its_queue(
    desk, create, django_capture_on_commit_callbacks
):
    desk.middle.assignment_strategy = AssignmentStrategy.MANUAL
    desk.middle.save(update_fields=["assignment_strategy"])
    type_rule("consultation")
    ticket = create("[consultation] which printer driver?")
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_dispatch(
            ticket_id=ticket.pk, actor=ticket.assignee, team=desk.middle, reason="expert"
        )
    ticket.refresh_from_db()
    assert (ticket.team, ticket.status, ticket.assignee) == (desk.middle, Status.QUEUED, None)


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.IM])
def test_a_call_logged_by_tier1_stays_with_that_agent(desk, create, channel):
    # Round robin spreads portal requests over the team; the agent on the phone keeps theirs.
    type_rule("consultation")
    ticket = create(
        "[consultation] my Outlook will not start",
        created_by=desk.tier1,
        channel=channel,
    )
    assert (ticket.team, ticket.status, ticket.assignee) == (
        desk.front,
        Status.IN_PROGRESS,
        desk.tier1,
    )
    # The same request from the portal goes round robin as before.
    other = create("[consultation] my Outlook will not start", channel=Channel.PORTAL)
    assert other.assignee is not None


def test_a_call_routed_to_another_team_follows_that_teams_strategy(desk, create):
    type_rule("defect")  # defects go straight to the middle office
    ticket = create(
        "[defect] report totals are wrong", created_by=desk.tier1, channel=Channel.PHONE
    )
    assert (ticket.team, ticket.assignee) == (desk.middle, desk.expert)


@pytest.mark.parametrize("channel", [Channel.PORTAL, Channel.API])
def test_a_requester_cannot_make_their_own_ticket_p1(desk, create, channel):
    type_rule("consultation")
    ticket = create("[consultation] everything is urgent", impact=1, urgency=1, channel=channel)
    assert ticket.priority == "P2"
    # The front office logging the same call may give it P1.
    logged = create(
        "[consultation] everything is urgent",
        impact=1,
        urgency=1,
        channel=Channel.PHONE,
        created_by=desk.tier1,
    )
    assert logged.priority == "P1"


# --- many hand-overs at once (an SLA sweep's escalated chunk) ------------------------------------


def _handed_over(desk, create, capture, count: int) -> tuple[list, list[dict]]:
    """`count` tickets handed to the middle office, their reactions not run yet."""
    type_rule("consultation")
    tickets = [create(f"[consultation] printer {n}") for n in range(count)]
    with capture(execute=False):
        for ticket in tickets:
            services.ticket_dispatch(
                ticket_id=ticket.pk, actor=ticket.assignee, team=desk.middle, reason="expert"
            )
    payloads = [
        {
            "ticket_id": ticket.pk,
            "old_team_id": desk.front.pk,
            "new_team_id": desk.middle.pk,
            "old_assignee_id": ticket.assignee_id,
            "new_assignee_id": None,
            "actor_id": None,
        }
        for ticket in tickets
    ]
    return tickets, payloads


def test_a_batch_of_hand_overs_goes_round_robin_as_one_after_another(
    desk, create, django_capture_on_commit_callbacks
):
    TeamMembership.objects.create(team=desk.middle, user=desk.engineer)
    tickets, payloads = _handed_over(desk, create, django_capture_on_commit_callbacks, 4)
    told = Notification.objects.filter(
        kind="ticket.assigned_to_you", recipient__in=[desk.expert, desk.engineer]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert on_assignments_changed(payloads=payloads) == {}
    first, second = sorted([desk.expert.pk, desk.engineer.pk])
    assert [Ticket.objects.get(pk=t.pk).assignee_id for t in tickets] == [
        first,
        second,
        first,
        second,
    ]
    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("status", "team")
    ) == {(Status.IN_PROGRESS, desk.middle.pk)}
    assert RoundRobinCursor.objects.get(team=desk.middle).last_assignee_id == second
    # Logged as the one-by-one assignment logs it, and the new assignees told.
    for ticket in tickets:
        [assigned] = TicketEvent.objects.filter(
            ticket=ticket, kind=EventKind.ASSIGNED, new_value__isnull=False
        ).order_by("-id")[:1]
        assert "round robin" in assigned.message and assigned.actor_id is None
    assert told.count() == 2 * len(tickets)  # inbox and e-mail
    # Run again (a retried reaction): nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        on_assignments_changed(payloads=payloads)
    assert told.count() == 2 * len(tickets)


def test_a_manual_team_keeps_a_batch_of_hand_overs_in_its_queue(
    desk, create, django_capture_on_commit_callbacks
):
    desk.middle.assignment_strategy = AssignmentStrategy.MANUAL
    desk.middle.save(update_fields=["assignment_strategy"])
    tickets, payloads = _handed_over(desk, create, django_capture_on_commit_callbacks, 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert on_assignments_changed(payloads=payloads) == {}
    for ticket in tickets:
        ticket.refresh_from_db()
        assert (ticket.team, ticket.status, ticket.assignee) == (desk.middle, Status.QUEUED, None)
        note = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ROUTED).last()
        assert "by hand" in note.message
