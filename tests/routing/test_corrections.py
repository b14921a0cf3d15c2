"""Agents' corrections: logged, the ticket follows them, and they become training data."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.choices import Tier
from catalog.models import Category
from routing import services
from routing.choices import ExampleSource, Target
from routing.models import ClassificationRule, TrainingExample
from tests.factories import TeamFactory, request_type
from tickets.choices import EventKind, Status

from .helpers import log


def examples(ticket) -> dict[str, tuple[str, str]]:
    return {e.target: (e.label, e.source) for e in TrainingExample.objects.filter(ticket=ticket)}


def test_correcting_a_triaged_ticket_routes_it_and_stores_examples(desk, create):
    ticket = create("网页打不开了", "提交订单时报错")
    assert ticket.needs_triage
    ticket = services.routing_correct(
        ticket_id=ticket.pk,
        actor=desk.tier1,
        request_type=request_type("defect"),
        category=Category.objects.get(code="application-function"),
        system=desk.system,
    )
    assert (ticket.status, ticket.tier, ticket.team) == (
        Status.IN_PROGRESS,
        Tier.MIDDLE,
        desk.middle,
    )
    assert ticket.needs_triage is False
    assert ticket.assignee == desk.expert
    assert examples(ticket) == {
        Target.REQUEST_TYPE: ("defect", ExampleSource.AGENT_CORRECTION),
        Target.CATEGORY: ("application-function", ExampleSource.AGENT_CORRECTION),
    }
    example = TrainingExample.objects.get(ticket=ticket, target=Target.REQUEST_TYPE)
    # The text the model reads: title, description, then the ticket's signals as tokens.
    assert example.text == (
        f"网页打不开了\n提交订单时报错\n__chan_portal__ __sys_{desk.system.pk}__"
        f" __unit_{ticket.unit_id}__"
    )
    assert example.created_by == desk.tier1
    changed = log(ticket, EventKind.TYPE_CHANGED)[0]
    assert (changed.actor, changed.old_value, changed.new_value) == (
        desk.tier1,
        None,
        request_type("defect").pk,
    )
    assert changed.message == f"classification corrected by {desk.tier1}"
    assert changed.data["correction"] is True


def test_correcting_again_replaces_the_example(desk, create):
    ticket = create("hmm")
    services.routing_correct(
        ticket_id=ticket.pk, actor=desk.tier1, request_type=request_type("consultation")
    )
    services.routing_correct(
        ticket_id=ticket.pk, actor=desk.tier1, request_type=request_type("complaint")
    )
    assert examples(ticket) == {
        Target.REQUEST_TYPE: ("complaint", ExampleSource.AGENT_CORRECTION),
    }


def test_correcting_the_team_of_a_queued_ticket_dispatches_it(desk, create):
    ClassificationRule.objects.create(
        name="q", keywords="vpn", set_request_type=request_type("consultation")
    )
    vip = TeamFactory(code="front-vip", name="VIP desk", tier=Tier.FRONT)
    ticket = create("vpn question")
    assert ticket.team == desk.front
    ticket = services.routing_correct(ticket_id=ticket.pk, actor=desk.tier1, team=vip)
    assert (ticket.status, ticket.team, ticket.assignee) == (Status.QUEUED, vip, None)
    assert log(ticket, EventKind.ROUTED)[-1].message == (
        "nobody in VIP desk can take it now (away or no agents): left in the queue"
    )
    assert examples(ticket) == {Target.TEAM: ("front-vip", ExampleSource.AGENT_CORRECTION)}


def test_correcting_a_front_ticket_to_a_middle_type_moves_it_up(desk, create):
    ClassificationRule.objects.create(
        name="q", keywords="report", set_request_type=request_type("consultation")
    )
    ticket = create("report export is empty")
    assert ticket.tier == Tier.FRONT
    ticket = services.routing_correct(
        ticket_id=ticket.pk, actor=desk.tier1, request_type=request_type("defect")
    )
    assert (ticket.tier, ticket.team, ticket.assignee) == (Tier.MIDDLE, desk.middle, desk.expert)


def test_a_label_never_seen_in_training_is_stored(desk, create):
    from catalog.models import RequestType

    brand_new = RequestType.objects.create(
        code="security_incident", name="Security incident", entry_tier=Tier.MIDDLE, flow="fault"
    )
    ticket = create("phishing mail received")
    ticket = services.routing_correct(ticket_id=ticket.pk, actor=desk.tier1, request_type=brand_new)
    assert ticket.request_type == brand_new
    assert examples(ticket)[Target.REQUEST_TYPE] == (
        "security_incident",
        ExampleSource.AGENT_CORRECTION,
    )


def test_correction_guards(desk, create):
    ticket = create("hmm")
    with pytest.raises(ValidationError):
        services.routing_correct(ticket_id=ticket.pk, actor=desk.tier1)
    with pytest.raises(PermissionDenied):
        services.routing_correct(
            ticket_id=ticket.pk, actor=desk.requester, request_type=request_type("defect")
        )
    # An engineer may not dispatch, and the triaged ticket is in nobody's team.
    with pytest.raises(PermissionDenied):
        services.routing_correct(
            ticket_id=ticket.pk, actor=desk.engineer, request_type=request_type("defect")
        )
    assert TrainingExample.objects.filter(ticket=ticket).count() == 0
    ticket.refresh_from_db()
    assert ticket.request_type is None
