"""A ticket handed to another team is assigned by that team's strategy, as at intake; a call
logged by a front-office agent stays with that agent (first contact)."""

from __future__ import annotations

import pytest

from accounts.choices import AssignmentStrategy
from tickets import services
from tickets.choices import Channel, Status

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
