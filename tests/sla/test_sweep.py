"""The sweep: warnings, breaches and escalation steps, each exactly once per level."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from sla import tasks
from sla.choices import Level, Metric, TimerState
from sla.models import SlaTimer
from sla.services import sla_due_timer_ids, sla_timers_process
from tests.sla.conftest import sh
from tickets import services as tickets
from tickets import tasks as ticket_tasks
from tickets.choices import EventKind, Status
from tickets.models import Ticket, TicketEvent

T0 = sh(2025, 10, 1, 3, 0)


@pytest.fixture
def led_desk(desk):
    """The front office is led by tier2, the middle office by the expert."""
    desk.front.lead = desk.tier2
    desk.front.save(update_fields=["lead"])
    desk.middle.lead = desk.expert
    desk.middle.save(update_fields=["lead"])
    return desk


def sweep_at(when, capture, job=tasks.sweep):
    with time_machine.travel(when, tick=False), capture(execute=True):
        return job()


def events(ticket, kind) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind).order_by("id"))


def notified(prefix: str) -> list[tuple[str, int | None]]:
    return sorted(
        Notification.objects.filter(dedupe_key__startswith=prefix).values_list(
            "channel", "recipient_id"
        )
    )


def test_sweep_with_nothing_due_costs_one_query(led_desk, open_ticket, django_assert_num_queries):
    open_ticket(at=T0, priority="P1")
    with (
        time_machine.travel(T0 + timedelta(minutes=5), tick=False),
        django_assert_num_queries(1),
    ):
        assert tasks.sweep() == {"warning": 0, "breach": 0, "escalation": 0}


def test_warning_notifies_the_team_lead_of_an_unassigned_ticket_once(
    led_desk, open_ticket, django_capture_on_commit_callbacks
):
    desk = led_desk
    ticket = open_ticket(at=T0, priority="P1")
    first = SlaTimer.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    at = T0 + timedelta(minutes=23)  # 75 % of 30 min = 22.5 min
    assert sweep_at(at, django_capture_on_commit_callbacks) == {
        "warning": 1,
        "breach": 0,
        "escalation": 0,
    }
    first.refresh_from_db()
    assert first.warned_at == at and first.breached_at is None
    assert [e.data["metric"] for e in events(ticket, EventKind.SLA_WARNED)] == ["first_response"]
    assert notified(f"sla:{first.pk}:") == [("email", desk.tier2.pk), ("inbox", desk.tier2.pk)]
    assert [m.to for m in mail.outbox] == [[desk.tier2.email]]
    assert Notification.objects.get(channel="email").status == "sent"
    # The sweep runs again (or a second beat fires): nothing new.
    assert sweep_at(at + timedelta(seconds=30), django_capture_on_commit_callbacks) == {
        "warning": 0,
        "breach": 0,
        "escalation": 0,
    }
    assert len(events(ticket, EventKind.SLA_WARNED)) == 1
    assert Notification.objects.count() == 2 and len(mail.outbox) == 1


def test_breach_escalates_functionally_and_hierarchically_once_per_level(
    led_desk, open_ticket, django_capture_on_commit_callbacks
):
    desk = led_desk
    ticket = open_ticket(at=T0, priority="P1")
    first = SlaTimer.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    breach_at = T0 + timedelta(minutes=31)
    for _ in range(2):  # the second run finds nothing
        sweep_at(breach_at, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.breached_at == breach_at and first.warned_at == breach_at
    assert first.escalation_level == 1
    assert first.next_escalation_at == breach_at + timedelta(minutes=30)
    ticket.refresh_from_db()
    # Escalated to the middle office and, as at intake, assigned by its strategy (round
    # robin: its only member, the expert).
    assert (ticket.team, ticket.tier, ticket.status, ticket.assignee) == (
        desk.middle,
        "middle",
        Status.IN_PROGRESS,
        desk.expert,
    )
    assert len(events(ticket, EventKind.SLA_WARNED)) == 0  # the breach superseded it
    assert len(events(ticket, EventKind.SLA_BREACHED)) == 1
    [escalated] = events(ticket, EventKind.ESCALATED)
    assert escalated.data == {
        "level": 1,
        "metric": "first_response",
        "timer": first.pk,
        "reassigned_to": desk.middle.pk,
        "notified": [desk.tier2.pk],
    }
    team_change = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.TEAM_CHANGED).last()
    assert (team_change.old_value, team_change.new_value) == (desk.front.pk, desk.middle.pk)
    assert notified(f"sla:{first.pk}:") == [("email", desk.tier2.pk), ("inbox", desk.tier2.pk)]

    # Level 2, 30 minutes later: up the chain again and the requester's unit manager told.
    level2_at = breach_at + timedelta(minutes=30)
    for _ in range(2):
        sweep_at(level2_at, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert (first.escalation_level, first.next_escalation_at) == (2, None)
    ticket.refresh_from_db()
    assert ticket.team == desk.back
    levels = [e.data["level"] for e in events(ticket, EventKind.ESCALATED)]
    assert levels == [1, 2]
    assert events(ticket, EventKind.ESCALATED)[1].data["notified"] == [desk.manager.pk]
    assert notified(f"sla:{first.pk}:escalation:2:") == [
        ("email", desk.manager.pk),
        ("inbox", desk.manager.pk),
    ]
    # The resolution clock was warned at 90 min (level 2 ran at 61 min; nothing else yet).
    assert len(events(ticket, EventKind.SLA_BREACHED)) == 1


def test_met_clock_is_not_breached(led_desk, open_ticket, django_capture_on_commit_callbacks):
    desk = led_desk
    ticket = open_ticket(at=T0, priority="P1")
    with (
        time_machine.travel(T0 + timedelta(minutes=29), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    sweep_at(T0 + timedelta(minutes=40), django_capture_on_commit_callbacks)
    assert events(ticket, EventKind.SLA_BREACHED) == []
    first = SlaTimer.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert first.state == TimerState.MET and first.breached_at is None


def test_paused_clock_is_not_swept(led_desk, open_ticket, django_capture_on_commit_callbacks):
    from tickets.choices import PendingReason

    desk = led_desk
    ticket = open_ticket(at=T0, priority="P2")
    with (
        time_machine.travel(T0 + timedelta(minutes=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
        tickets.ticket_suspend(
            ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.REQUESTER
        )
    sweep_at(T0 + timedelta(days=2), django_capture_on_commit_callbacks)
    assert events(ticket, EventKind.SLA_BREACHED) == []


def test_progress_reminders_for_routine_tickets(
    led_desk, open_ticket, django_capture_on_commit_callbacks
):
    desk = led_desk
    ticket = open_ticket(at=sh(2025, 9, 29, 9, 0), priority="P3")
    with (
        time_machine.travel(sh(2025, 9, 29, 9, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    progress = SlaTimer.objects.get(ticket=ticket, metric=Metric.PROGRESS_UPDATE)
    assert progress.due_at == sh(2025, 9, 30, 9, 30)  # one business day later
    late = sh(2025, 9, 30, 10, 0)
    # The minute sweep leaves routine progress updates to the reminder job.
    sweep_at(late, django_capture_on_commit_callbacks)
    progress.refresh_from_db()
    assert progress.breached_at is None
    for _ in range(2):
        sweep_at(late, django_capture_on_commit_callbacks, job=tasks.progress_reminders)
    progress.refresh_from_db()
    assert progress.breached_at == late
    assert notified(f"sla:{progress.pk}:breach:") == [
        ("email", desk.tier1.pk),
        ("email", desk.tier2.pk),
        ("inbox", desk.tier1.pk),
        ("inbox", desk.tier2.pk),
    ]
    assert events(ticket, EventKind.ESCALATED) == []


def test_auto_close_resolved_twice_closes_once(
    led_desk, open_ticket, django_capture_on_commit_callbacks
):
    desk = led_desk
    ticket = open_ticket(at=T0, priority="P2")
    with (
        time_machine.travel(T0 + timedelta(minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    with (
        time_machine.travel(T0 + timedelta(minutes=6), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution="done")
    later = T0 + timedelta(days=4)
    assert (
        sweep_at(later, django_capture_on_commit_callbacks, ticket_tasks.auto_close_resolved) == 1
    )
    assert (
        sweep_at(later, django_capture_on_commit_callbacks, ticket_tasks.auto_close_resolved) == 0
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert {t.state for t in SlaTimer.objects.filter(ticket=ticket)} == {
        TimerState.MET,
        TimerState.STOPPED,
    }


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_handle_each_timer_once(led_desk, open_ticket):
    desk = led_desk
    opened = [open_ticket(at=T0, priority="P1", title=f"Outage {n}") for n in range(6)]
    at = T0 + timedelta(minutes=31)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep_in_thread():
        try:
            due = sla_due_timer_ids(now=at)[Level.BREACH]
            barrier.wait(timeout=10)
            results.append(sla_timers_process(timer_ids=due, level=Level.BREACH).handled)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(at, tick=False):
        threads = [threading.Thread(target=sweep_in_thread) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    handled = sorted(results[0] + results[1])
    first_ids = sorted(
        SlaTimer.objects.filter(metric=Metric.FIRST_RESPONSE).values_list("pk", flat=True)
    )
    assert handled == first_ids  # every due timer once, by one sweep or the other
    for ticket in opened:
        assert len(events(ticket, EventKind.SLA_BREACHED)) == 1
        assert len(events(ticket, EventKind.ESCALATED)) == 1
        assert Ticket.objects.get(pk=ticket.pk).team == desk.middle


@pytest.mark.django_db(transaction=True)
def test_a_breach_due_in_the_same_sweep_as_its_warning_is_handled_in_that_sweep(
    led_desk, open_ticket
):
    """31 minutes after a P1 opened, its first-response clock is past both its warning (75 %)
    and its due time. The sweep's chunks run at once, one per worker: while the warning's chunk
    still holds its rows, the breach's chunk must find the timer its own, not skip it."""
    ticket = open_ticket(at=T0, priority="P1")
    at = T0 + timedelta(minutes=31)
    held, release = threading.Event(), threading.Event()
    errors = []

    def warning_chunk(timer_ids):
        try:
            with transaction.atomic():
                sla_timers_process(timer_ids=timer_ids, level=Level.WARNING)
                held.set()
                release.wait(timeout=30)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            held.set()
            connection.close()

    with time_machine.travel(at, tick=False):
        due = sla_due_timer_ids()
        thread = threading.Thread(target=warning_chunk, args=(due[Level.WARNING],))
        thread.start()
        assert held.wait(timeout=30)
        breach = sla_timers_process(timer_ids=due[Level.BREACH], level=Level.BREACH)
        release.set()
        thread.join(timeout=60)
    assert errors == []
    first = SlaTimer.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert breach.handled == [first.pk]
    assert (first.breached_at, first.warned_at) == (at, at)
    assert len(events(ticket, EventKind.SLA_BREACHED)) == 1
    assert events(ticket, EventKind.SLA_WARNED) == []  # the breach supersedes the warning
    assert Ticket.objects.get(pk=ticket.pk).team == led_desk.middle  # escalated at once


# --- a chunk of many breaches (issue #11: 10,000 breaches end to end) -------------------------
# The same outcome per ticket as one at a time (escalated, assigned by the receiving team's
# strategy, logged, told), in a number of queries that does not grow with the chunk.
BATCH = 100
# Measured 2026-12-06 for 100 breaches (branch `breach`): 95 queries, fewer counted since the
# log's INSERT goes through the driver: the chunk's locking read, markers, log and bulk
# escalation; the batch forms of its reactions (SLA stints, the hand-over assignment by each
# team's strategy, the followers' and new assignees' messages, each in a few statements); the
# 200 e-mails delivered in slices (a locking read and an UPDATE per 25). With each escalated
# ticket's reactions run on their own it cost 2,258.
BUDGET = 100


def test_a_chunk_of_a_hundred_breaches_costs_a_fixed_number_of_queries(
    led_desk, open_ticket, django_capture_on_commit_callbacks
):
    desk = led_desk
    breached = [open_ticket(at=T0, priority="P1", title=f"Trading {n}") for n in range(BATCH)]
    breach_at = T0 + timedelta(minutes=31)
    with (
        time_machine.travel(breach_at, tick=False),
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.sweep()["breach"] == BATCH
    assert len(queries.captured_queries) <= BUDGET, len(queries.captured_queries)

    ids = [t.pk for t in breached]
    # Each ticket as one escalation alone would leave it: in the middle office, given by its
    # round robin to its only member, logged, the lead told of the breach and the new
    # assignee of the assignment, every e-mail sent.
    assert set(
        Ticket.objects.filter(pk__in=ids).values_list("team", "tier", "status", "assignee")
    ) == {(desk.middle.pk, "middle", Status.IN_PROGRESS, desk.expert.pk)}
    timers = SlaTimer.objects.filter(ticket_id__in=ids, metric=Metric.FIRST_RESPONSE)
    assert set(timers.values_list("escalation_level", flat=True)) == {1}
    for kind in (EventKind.SLA_BREACHED, EventKind.ESCALATED):
        assert TicketEvent.objects.filter(ticket_id__in=ids, kind=kind).count() == BATCH, kind
    moved = TicketEvent.objects.filter(
        ticket_id__in=ids, kind=EventKind.TEAM_CHANGED, new_value=desk.middle.pk
    )
    assert moved.count() == BATCH
    assigned = TicketEvent.objects.filter(
        ticket_id__in=ids, kind=EventKind.ASSIGNED, new_value=desk.expert.pk
    )
    assert assigned.count() == BATCH
    notes = Notification.objects.filter(ticket_id__in=ids)
    assert notes.filter(recipient=desk.tier2, dedupe_key__startswith="sla:").count() == 2 * BATCH
    assert notes.filter(recipient=desk.expert, kind="ticket.assigned_to_you").count() == 2 * BATCH
    assert not notes.filter(status="pending").exists()
    assert len(mail.outbox) == 2 * BATCH

    # The sweep again: nothing is due, nothing is sent twice.
    with (
        time_machine.travel(breach_at + timedelta(seconds=30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.sweep()["breach"] == 0
    assert len(mail.outbox) == 2 * BATCH
