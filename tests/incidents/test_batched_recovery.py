"""The recovery of a major incident resolves its linked tickets as one batch: the
STATUS_CHANGED chain runs through the wiring's batch entry point (`reactions.fire_many`,
tickets/wiring.py `run_batch`), with the same outcome per ticket as a change of one ticket."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from notifications.models import Notification
from sla.choices import ACTIVE_TIMER_STATES, Metric, TimerState
from sla.models import SlaTimer
from tests.factories import SystemFactory, TicketFactory, UserFactory
from tickets import reactions, wiring
from tickets.choices import Status
from tickets.models import ReactionRetry, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def linked_incident(desk, capture, *, n: int, code: str):
    """An incident on a system of its own with `n` linked tickets whose clocks run."""
    system = SystemFactory(code=code, name=code.title(), owner_team=desk.back, is_core=True)
    incident = services.incident_declare(
        actor=desk.expert, title_en=f"{code} outage", systems=[system]
    )
    requesters = [UserFactory(username=f"{code}-{i}", roles=["requester"]) for i in range(n)]
    with capture(execute=True):  # the intake reactions start the SLA clocks
        tickets = [
            TicketFactory(desk).new(requester=r, title=f"Cannot trade {i}", system=system)
            for i, r in enumerate(requesters)
        ]
    services.incident_link_tickets(
        actor=desk.expert, incident_id=incident.pk, ticket_ids=[t.pk for t in tickets]
    )
    return incident, tickets


def recover(desk, capture, incident) -> tuple[int, int]:
    """Recover; (tickets resolved, statements including the after-commit reactions)."""
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        _published, resolved = services.incident_recover(
            actor=desk.expert, incident_id=incident.pk, resolution="Failed over.", title_en="Up"
        )
    return resolved, len(queries)


def test_recovery_follows_every_linked_ticket_in_a_constant_number_of_statements(
    desk, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    small, _tickets = linked_incident(desk, capture, n=2, code="small")
    large, tickets = linked_incident(desk, capture, n=8, code="large")
    assert SlaTimer.objects.filter(ticket__in=tickets, state=TimerState.RUNNING).count() >= 16
    resolved_small, statements_small = recover(desk, capture, small)
    resolved, statements = recover(desk, capture, large)
    assert (resolved_small, resolved) == (2, 8)
    # Four times the tickets, not one statement more: the SLA clocks and the requesters'
    # messages are handled set-based, the log rows written a chunk at a time.
    assert statements == statements_small
    ids = [t.pk for t in tickets]
    for ticket in Ticket.objects.filter(pk__in=ids):
        assert ticket.status == Status.RESOLVED
        timers = {t.metric: t for t in SlaTimer.objects.filter(ticket=ticket)}
        # As `sla_timers_on_status` leaves them: resolution met at the resolution time.
        assert timers[Metric.RESOLUTION].state == TimerState.MET
        assert timers[Metric.RESOLUTION].met_at == ticket.resolved_at
        assert timers[Metric.RESOLUTION].next_escalation_at is None
    assert not SlaTimer.objects.filter(ticket__in=ids, state__in=ACTIVE_TIMER_STATES).exists()
    # Each linked ticket: its own log entry, and its requester asked to confirm it.
    moved = TicketEvent.objects.filter(
        ticket__in=ids, kind="ticket.status_changed", new_value=Status.RESOLVED
    )
    assert sorted(moved.values_list("ticket_id", flat=True)) == sorted(ids)
    asked = Notification.objects.filter(kind="ticket.please_confirm", channel="inbox")
    assert sorted(asked.filter(ticket_id__in=ids).values_list("recipient_id", "ticket_id")) == (
        sorted((t.requester_id, t.pk) for t in tickets)
    )
    assert asked.get(ticket_id=tickets[0].pk).params["resolution"] == "Failed over."
    assert not ReactionRetry.objects.exists()


def test_a_failing_batch_form_falls_back_to_one_ticket_at_a_time(
    desk, django_capture_on_commit_callbacks, monkeypatch
):
    """A batch form that raises costs only speed; a reaction failing for one ticket is kept
    for that ticket's retry, from that reaction, and holds up no other ticket."""
    capture = django_capture_on_commit_callbacks
    incident, tickets = linked_incident(desk, capture, n=3, code="fallback")

    def batch_down(**_payload):
        raise RuntimeError("the batch form is down")

    monkeypatch.setitem(wiring._batch_forms, "sla.reactions.on_status_changed", batch_down)
    victim = tickets[1].pk

    def fails_for_one(*, ticket_id, **_payload):
        if ticket_id == victim:
            raise RuntimeError("this ticket only")

    with reactions.wired_for_test(reactions.STATUS_CHANGED, fails_for_one, name="tests.one"):
        resolved, _statements = recover(desk, capture, incident)
    assert resolved == 3
    ids = [t.pk for t in tickets]
    assert not SlaTimer.objects.filter(ticket__in=ids, state__in=ACTIVE_TIMER_STATES).exists()
    assert Notification.objects.filter(kind="ticket.please_confirm", ticket_id__in=ids).exists()
    retry = ReactionRetry.objects.get()
    assert (retry.event, retry.ticket_id, retry.reaction) == ("status_changed", victim, "tests.one")
    assert retry.state == ReactionRetry.State.RETRYING
    assert retry.payload["new"] == Status.RESOLVED
