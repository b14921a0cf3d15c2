"""Routing per PRODUCT.md §5: entry tier per request type, P1 monitoring faults, dispatch to the
system's owner."""

import pytest
from django.core.exceptions import ValidationError

from accounts.choices import Tier
from accounts.models import Team
from routing import services
from routing.models import ClassificationRule
from tests.factories import TeamFactory, request_type
from tickets.choices import Channel, EventKind, Status, Urgency

from .helpers import log


def type_rule(code: str) -> None:
    ClassificationRule.objects.create(
        name=f"type {code}", keywords=f"[{code}]", set_request_type=request_type(code)
    )


@pytest.mark.parametrize(
    ("code", "tier"),
    [
        ("defect", Tier.MIDDLE),
        ("fault", Tier.MIDDLE),
        ("change_request", Tier.MIDDLE),
        ("account_permission", Tier.FRONT),
        ("data_processing", Tier.FRONT),
        ("complaint", Tier.FRONT),
        ("consultation", Tier.FRONT),
    ],
)
def test_entry_tier_per_request_type(desk, create, code, tier):
    type_rule(code)
    ticket = create(f"[{code}] something")
    expected_team = desk.middle if tier == Tier.MIDDLE else desk.front
    assert (ticket.request_type.code, ticket.tier, ticket.team) == (code, tier, expected_team)
    routed = [e for e in log(ticket, EventKind.TEAM_CHANGED)]
    assert len(routed) == 1
    assert routed[0].actor_id is None
    assert (
        f"goes to the {Tier(tier).label.lower()} first: {expected_team.name}" in routed[0].message
    )
    assert routed[0].data["transition"] == "route"


def test_p1_fault_from_monitoring_goes_to_the_on_duty_middle_team(desk, create):
    # Another middle team sorts first by code but is not on duty; the rule even names it.
    other = TeamFactory(code="middle-aaa", name="Infra experts", tier=Tier.MIDDLE)
    ClassificationRule.objects.create(
        name="to infra",
        order=5,
        keywords="disk",
        set_request_type=request_type("fault"),
        set_team=other,
    )
    ticket = create(
        "Disk full on trading db",
        channel=Channel.ALERT,
        system=desk.system,
        urgency=Urgency.CRITICAL,
    )
    assert (ticket.request_type.code, ticket.priority) == ("fault", "P1")
    assert (ticket.tier, ticket.team) == (Tier.MIDDLE, desk.middle)
    assert ticket.assignee == desk.expert  # round robin of the on-duty team, at once
    message = log(ticket, EventKind.TEAM_CHANGED)[0].message
    assert message == (
        "P1 fault from monitoring: straight to the on-duty middle office, Application experts"
    )


def test_non_p1_alert_follows_the_rule_team(desk, create):
    other = TeamFactory(code="middle-aaa", name="Infra experts", tier=Tier.MIDDLE)
    ClassificationRule.objects.create(
        name="to infra",
        order=5,  # before the seeded alert rule: the first match wins
        keywords="disk",
        set_request_type=request_type("fault"),
        set_team=other,
    )
    ticket = create("Disk 80% on a test box", channel=Channel.ALERT)
    assert ticket.priority == "P3"
    assert ticket.team == other


def test_no_team_at_the_entry_tier_means_triage(desk, create):
    Team.objects.filter(tier=Tier.FRONT).update(tier=Tier.BACK)
    type_rule("consultation")
    ticket = create("[consultation] hello")
    assert (ticket.status, ticket.needs_triage) == (Status.NEW, True)
    assert log(ticket, EventKind.TRIAGE)[0].message == (
        "The ticket cannot be routed: there is no team at the front office."
    )


def test_reaction_is_idempotent(desk, create):
    type_rule("defect")
    ticket = create("[defect] x")
    before = ticket.events.count()
    services.routing_auto_route(ticket_id=ticket.pk)
    assert ticket.events.count() == before


def test_dispatch_to_owner(desk, create, django_capture_on_commit_callbacks):
    type_rule("defect")
    ticket = create("[defect] trading order screen", system=desk.system)
    assert (ticket.tier, ticket.assignee) == (Tier.MIDDLE, desk.expert)
    ticket = services.routing_dispatch_to_owner(ticket_id=ticket.pk, actor=desk.expert)
    assert (ticket.tier, ticket.team) == (Tier.BACK, desk.back)
    assert ticket.assignee == desk.engineer  # the owner team's round robin
    entry = log(ticket, EventKind.TEAM_CHANGED)[-1]
    assert entry.message == "dispatched to Core systems, the owner of Trading"
    assert entry.actor == desk.expert
    assert entry.data["system"] == "trading"


def test_dispatch_to_owner_needs_a_system_and_the_middle_office(desk, create):
    type_rule("defect")
    type_rule("consultation")
    no_system = create("[defect] something")
    with pytest.raises(ValidationError) as error:
        services.routing_dispatch_to_owner(ticket_id=no_system.pk, actor=desk.expert)
    assert list(error.value.message_dict) == ["system"]
    front = create("[consultation] trading", system=desk.system)
    assert front.tier == Tier.FRONT
    with pytest.raises(ValidationError) as error:
        services.routing_dispatch_to_owner(ticket_id=front.pk, actor=desk.tier1)
    assert error.value.message_dict == {
        "non_field_errors": ["Only the middle office sends tickets to the system owner."]
    }


def test_query_budget_of_automatic_routing(desk, django_assert_max_num_queries):
    from routing.services import routing_auto_route
    from tickets.services import ticket_create

    type_rule("consultation")
    ticket, _ = ticket_create(requester=desk.requester, title="[consultation] hi")
    # Rules, models and matrix reads; classify, route and assign through the ticket services
    # (each locks the row and logs); savepoints count too. Does not grow with the desk's size.
    with django_assert_max_num_queries(36):
        routing_auto_route(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.assignee == desk.tier1
