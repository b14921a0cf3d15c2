"""The incremental refresh equals a full recomputation, whatever happened in between."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.models import DailyRollup, RollupState, TicketFact
from reports.rollups import rollup_refresh
from reports.tasks import refresh_rollups
from tests.reports.conftest import at
from tickets import services as tickets
from tickets.exceptions import IllegalTransition
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def snapshot():
    facts = sorted(tuple(v for k, v in row.items()) for row in TicketFact.objects.values())
    rollups = sorted(
        tuple(v for k, v in row.items() if k != "id") for row in DailyRollup.objects.values()
    )
    return facts, rollups


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["create", "take", "resolve", "confirm", "reject", "escalate", "refresh"]),
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=1, max_value=60 * 30),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_incremental_refresh_equals_full_rebuild(
    desk, open_ticket, django_capture_on_commit_callbacks, actions
):
    now = at(8, 0)
    made: list[int] = []
    for action, which, minutes in actions:
        now += timedelta(minutes=minutes)
        ticket_id = made[which % len(made)] if made else None
        with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
            try:
                if action == "create" or ticket_id is None:
                    made.append(open_ticket(at=now, priority="P2", title="Mail is slow").pk)
                elif action == "take":
                    tickets.ticket_assign(
                        ticket_id=ticket_id, actor=desk.tier1, assignee=desk.tier1
                    )
                elif action == "resolve":
                    tickets.ticket_resolve(ticket_id=ticket_id, actor=desk.tier1, resolution="ok")
                elif action == "confirm":
                    tickets.ticket_confirm(ticket_id=ticket_id, actor=desk.requester)
                elif action == "reject":
                    tickets.ticket_reject(ticket_id=ticket_id, actor=desk.requester, reason="no")
                elif action == "escalate":
                    tickets.ticket_dispatch(
                        ticket_id=ticket_id,
                        actor=desk.tier1,
                        team=desk.middle,
                        reason="expert",
                        escalation=True,
                    )
                else:
                    rollup_refresh()
            except (IllegalTransition, ValidationError, PermissionDenied):
                pass  # a move the state machine or a guard refuses changes nothing; go on
    rollup_refresh()
    incremental = snapshot()
    rollup_refresh(full=True)
    assert snapshot() == incremental
    assert TicketFact.objects.count() == Ticket.objects.count()


def test_refresh_twice_changes_nothing_the_second_time(desk, open_ticket):
    open_ticket(at=at(9, 0), priority="P1")
    first = refresh_rollups()
    before = snapshot()
    again = refresh_rollups()
    assert first["tickets"] == 1
    assert snapshot() == before
    assert again["tickets"] == 1  # the overlap re-reads the last entries: same rows
    assert RollupState.objects.get().last_event_id > 0
