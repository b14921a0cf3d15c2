"""The operation log: append-only in the database itself, written in the change's transaction,
and read as a timeline whose internal part requesters never see."""

from __future__ import annotations

import pytest
from django.db import InternalError, connection, transaction

from accounts.models import User
from catalog.models import RequestType
from tests.factories import TicketFactory
from tickets import services
from tickets.choices import ActorKind, EventKind, PendingReason
from tickets.models import Ticket, TicketEvent
from tickets.selectors import ticket_comments, ticket_timeline

pytestmark = pytest.mark.django_db


# --- append-only --------------------------------------------------------------------------------


def refused(call) -> str:
    """Run `call` in a savepoint; return the database's refusal message."""
    with pytest.raises(InternalError) as excinfo, transaction.atomic():
        call()
    return str(excinfo.value)


def test_the_database_refuses_update_and_delete_in_raw_sql(desk):
    ticket = TicketFactory(desk).queued()
    event = TicketEvent.objects.filter(ticket=ticket).first()

    def sql(statement: str):
        with connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])

    assert "UPDATE refused" in refused(
        lambda: sql("UPDATE tickets_ticketevent SET message = 'forged' WHERE id = %s")
    )
    assert "DELETE refused" in refused(lambda: sql("DELETE FROM tickets_ticketevent WHERE id = %s"))
    event.refresh_from_db()
    assert event.message == ""


def test_the_database_refuses_update_and_delete_through_the_orm(desk):
    ticket = TicketFactory(desk).queued()
    events = TicketEvent.objects.filter(ticket=ticket)
    count = events.count()
    event = events.first()

    def save():
        event.message = "forged"
        event.save()

    assert "UPDATE refused" in refused(save)
    assert "UPDATE refused" in refused(lambda: events.update(is_public=False))
    assert "DELETE refused" in refused(event.delete)
    assert "DELETE refused" in refused(events.delete)
    assert events.count() == count
    assert not TicketEvent.objects.filter(message="forged").exists()
    assert TicketEvent.objects.filter(ticket=ticket, is_public=False).count() == 0


def test_inserting_stays_possible(desk):
    ticket = TicketFactory(desk).new()
    before = TicketEvent.objects.count()
    services.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="more info")
    assert TicketEvent.objects.count() == before + 1


def test_events_are_written_in_the_change_transaction(desk):
    """A change that is rolled back leaves no log entry, and no entry outlives its change."""
    ticket = TicketFactory(desk).in_progress()
    before = TicketEvent.objects.filter(ticket=ticket).count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.VENDOR)
        raise RuntimeError("the caller failed after the service")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert TicketEvent.objects.filter(ticket=ticket).count() == before


def test_a_refused_transition_writes_nothing(desk):
    ticket = TicketFactory(desk).queued()
    before = list(TicketEvent.objects.filter(ticket=ticket).values_list("id", flat=True))
    with pytest.raises(Exception):  # noqa: B017 (any refusal; the point is what stays)
        services.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution="done")
    assert list(TicketEvent.objects.filter(ticket=ticket).values_list("id", flat=True)) == before


# --- the timeline -------------------------------------------------------------------------------


@pytest.fixture
def worked_ticket(desk) -> Ticket:
    """A ticket with public and internal history: triage, classification, a note, a reply."""
    ticket = TicketFactory(desk).new()
    services.ticket_send_to_triage(ticket_id=ticket.pk, reason="confidence 0.31")
    services.ticket_classify(
        ticket_id=ticket.pk, actor=desk.tier1, request_type=flow_type("consultation")
    )
    services.ticket_route(ticket_id=ticket.pk, actor=desk.tier1, tier="front", team=desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.comment_add(
        ticket_id=ticket.pk, actor=desk.tier1, body="Known VPN bug", is_internal=True
    )
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="Please restart.")
    services.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.REQUESTER)
    services.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="Restarted, works.")
    return Ticket.objects.get(pk=ticket.pk)  # as `ticket_get` gives it to a view


def flow_type(code: str) -> RequestType:
    return RequestType.objects.get(code=code)


INTERNAL_KINDS = {EventKind.TRIAGE, EventKind.TYPE_CHANGED, EventKind.NOTE_ADDED}


def test_the_requester_sees_only_the_public_timeline(desk, worked_ticket):
    events = list(ticket_timeline(viewer=desk.requester, ticket=worked_ticket))
    kinds = [e.kind for e in events]
    assert kinds == [
        EventKind.CREATED,
        EventKind.STATUS_CHANGED,  # queued
        EventKind.TIER_CHANGED,
        EventKind.TEAM_CHANGED,
        EventKind.STATUS_CHANGED,  # in progress
        EventKind.ASSIGNED,
        EventKind.COMMENTED,
        EventKind.STATUS_CHANGED,  # pending on the requester
        EventKind.COMMENTED,
        EventKind.STATUS_CHANGED,  # the reply resumed it
    ]
    assert all(e.is_public for e in events)
    assert "Known VPN bug" not in {e.message for e in events}
    assert [e.actor_kind for e in events][-2:] == [ActorKind.REQUESTER, ActorKind.REQUESTER]


@pytest.mark.parametrize("who", ["tier1", "tier2", "admin", "manager"])
def test_the_desk_sees_the_whole_log(desk, worked_ticket, who):
    events = list(ticket_timeline(viewer=getattr(desk, who), ticket=worked_ticket))
    assert {e.kind for e in events} >= INTERNAL_KINDS
    assert events == list(TicketEvent.objects.filter(ticket=worked_ticket).order_by("id"))


def test_an_agent_who_is_also_the_requester_of_a_ticket_sees_the_desk_side(desk):
    ticket = TicketFactory(desk).queued(requester=desk.tier2)
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="internal", is_internal=True)
    assert [c.body for c in ticket_comments(viewer=desk.tier2, ticket=ticket)] == ["internal"]


def test_internal_notes_never_reach_the_requester(desk, worked_ticket):
    mine = [c.body for c in ticket_comments(viewer=desk.requester, ticket=worked_ticket)]
    assert mine == ["Please restart.", "Restarted, works."]
    desk_side = [c.body for c in ticket_comments(viewer=desk.tier1, ticket=worked_ticket)]
    assert desk_side == ["Known VPN bug", "Please restart.", "Restarted, works."]


def test_the_timeline_costs_a_constant_number_of_queries(
    desk, worked_ticket, django_assert_max_num_queries
):
    for _ in range(10):
        services.comment_add(ticket_id=worked_ticket.pk, actor=desk.tier2, body="more")
    viewer = User.objects.get(pk=desk.requester.pk)  # nothing cached on it
    # The events with their actors in one query, plus the viewer's permissions.
    with django_assert_max_num_queries(3):
        events = list(ticket_timeline(viewer=viewer, ticket=worked_ticket))
        names = [str(e.actor) for e in events]
    assert len(events) == 20 and len(names) == 20
