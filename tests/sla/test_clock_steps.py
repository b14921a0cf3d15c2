"""A web or worker process whose clock is stepped (NTP, a resumed VM) decides nothing wrong:
SLA decisions take "now" from the database (servicedesk/clock.py), and every business-time
difference is guarded against a clock that went back (issue 17, item 12).

time-machine moves this process's clock; PostgreSQL's clock stays where it is.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from servicedesk import clock
from sla import tasks
from sla.choices import Level, Metric
from sla.models import SlaTimer, TierSpan
from sla.services import sla_timers_process
from tickets import services as tickets
from tickets.choices import EventKind, Status
from tickets.models import ReactionRetry, Ticket, TicketEvent


@pytest.fixture
def database_clock(settings):
    settings.DESK_CLOCK = "database"


def test_the_desk_clock_is_the_databases(db, database_clock):
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert abs(clock.now() - timezone.now() + timedelta(hours=1)) < timedelta(minutes=1)


def test_a_clock_stepped_one_hour_ahead_breaches_nothing(
    desk, database_clock, open_ticket, django_capture_on_commit_callbacks
):
    five_minutes_ago = timezone.now() - timedelta(minutes=5)
    opened = [open_ticket(at=five_minutes_ago, priority="P1", title=f"Down {n}") for n in range(5)]
    ids = list(SlaTimer.objects.filter(ticket__in=opened).values_list("pk", flat=True))
    with (
        time_machine.travel(timezone.now() + timedelta(hours=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.sweep() == {"warning": 0, "breach": 0, "escalation": 0}
        # Chunks handed out earlier (by a sweep on a right clock) re-check by the same clock.
        for level in Level:
            assert sla_timers_process(timer_ids=ids, level=level).handled == []
    assert not TicketEvent.objects.filter(
        ticket__in=opened, kind__in=[EventKind.SLA_WARNED, EventKind.SLA_BREACHED]
    ).exists()
    assert {t.team_id for t in Ticket.objects.filter(pk__in=[t.pk for t in opened])} == {
        desk.front.pk
    }


def test_a_clock_stepped_one_hour_back_records_nothing_before_it_happened(
    desk, database_clock, open_ticket, django_capture_on_commit_callbacks
):
    ticket = open_ticket(at=None, priority="P2")
    steps = (
        lambda: tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1),
        lambda: tickets.ticket_dispatch(
            ticket_id=ticket.pk, actor=desk.tier1, team=desk.middle, reason="expert needed"
        ),
        lambda: tickets.ticket_take(ticket_id=ticket.pk, actor=desk.expert),
        lambda: tickets.ticket_resolve(ticket_id=ticket.pk, actor=desk.expert, resolution="ok"),
    )
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        for step in steps:  # each with its reactions, as each request would
            with django_capture_on_commit_callbacks(execute=True):
                step()
    assert not ReactionRetry.objects.filter(ticket_id=ticket.pk).exists()  # none failed
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    first = SlaTimer.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert ticket.first_response_at >= first.started_at
    assert first.met_at >= first.started_at and first.used >= timedelta(0)
    for timer in SlaTimer.objects.filter(ticket=ticket):
        assert timer.used >= timedelta(0), timer.metric
        for moment in (timer.met_at, timer.stopped_at, timer.paused_at):
            assert moment is None or moment >= timer.started_at, timer.metric
    spans = list(TierSpan.objects.filter(ticket=ticket).order_by("id"))
    assert [s.tier for s in spans] == ["front", "middle"]
    for span in spans:
        if span.ended_at is not None:
            assert span.ended_at >= span.started_at and span.business_time >= timedelta(0)
    assert spans[1].started_at >= spans[0].started_at


def test_the_database_clock_costs_a_sweep_no_extra_query(
    desk, database_clock, open_ticket, django_assert_num_queries
):
    open_ticket(at=None, priority="P1")
    with django_assert_num_queries(1):  # now() inside the due-timer query itself
        assert tasks.sweep() == {"warning": 0, "breach": 0, "escalation": 0}
