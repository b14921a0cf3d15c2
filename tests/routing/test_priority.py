"""The priority matrix: seeded, editable, used by automatic classification; agent override."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError

from routing.defaults import PRIORITY_MATRIX
from routing.engine import priority_for
from routing.models import ClassificationRule, PriorityMatrix
from tests.factories import request_type
from tickets.choices import EventKind, Impact, Urgency
from tickets.services import ticket_set_priority

from .helpers import log


def test_matrix_is_seeded_with_sixteen_cells(db):
    cells = {(c.impact, c.urgency): c.priority for c in PriorityMatrix.objects.all()}
    assert len(cells) == 16
    assert cells == {
        (impact, urgency): row[urgency - 1]
        for impact, row in PRIORITY_MATRIX.items()
        for urgency in range(1, 5)
    }
    assert cells[(1, 1)] == "P1"
    assert cells[(4, 3)] == "P3"  # the ticket's default impact and urgency
    assert cells[(4, 4)] == "P4"


def test_one_cell_per_pair(db):
    with pytest.raises(IntegrityError):
        PriorityMatrix.objects.create(impact=1, urgency=1, priority="P4")


def test_edited_cell_is_used(db):
    PriorityMatrix.objects.filter(impact=3, urgency=2).update(priority="P2")
    assert priority_for(3, 2) == "P2"
    PriorityMatrix.objects.filter(impact=3, urgency=2).delete()
    assert priority_for(3, 2) == "P3"  # a missing cell falls back to the default matrix


def test_new_ticket_priority_from_its_impact_and_urgency(desk, create):
    ClassificationRule.objects.create(
        name="All", keywords="x", set_request_type=request_type("consultation")
    )
    ticket = create("x question", impact=Impact.SIGNIFICANT, urgency=Urgency.HIGH)
    assert ticket.priority == "P2"
    assert "priority P2 from impact 2 × urgency 2" in log(ticket, EventKind.CLASSIFIED)[0].message


def test_rule_raises_impact_and_urgency_but_never_lowers_them(desk, create):
    ClassificationRule.objects.create(
        name="Trading",
        keywords="交易",
        set_request_type=request_type("defect"),
        set_impact=Impact.SIGNIFICANT,
        set_urgency=Urgency.LOW,
    )
    ticket = create("交易查询慢", urgency=Urgency.HIGH)
    assert (ticket.impact, ticket.urgency, ticket.priority) == (2, 2, "P2")


def test_fault_of_a_core_system_raises_impact(desk, create):
    ClassificationRule.objects.create(
        name="Down", keywords="down", set_request_type=request_type("fault")
    )
    ticket = create("Trading is down", system=desk.system, urgency=Urgency.CRITICAL)
    assert (ticket.impact, ticket.priority) == (Impact.EXTENSIVE, "P1")
    assert "impact raised to extensive" in log(ticket, EventKind.CLASSIFIED)[0].message


def test_agent_overrides_priority_with_a_reason(desk, create):
    ClassificationRule.objects.create(
        name="All", keywords="printer", set_request_type=request_type("consultation")
    )
    ticket = create("printer question")
    assert ticket.priority == "P3"
    ticket_set_priority(
        ticket_id=ticket.pk, actor=desk.tier2, priority="P2", reason="the CEO's printer"
    )
    entry = log(ticket, EventKind.PRIORITY_CHANGED)[-1]
    assert (entry.old_value, entry.new_value, entry.message) == ("P3", "P2", "the CEO's printer")
    assert entry.data["override"] is True
    with pytest.raises(PermissionDenied):
        ticket_set_priority(ticket_id=ticket.pk, actor=desk.tier1, priority="P1", reason="x")
