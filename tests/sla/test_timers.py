"""SLA timers follow the ticket: start, pause/resume, met, stopped, recalculated, reopened."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from sla.choices import Metric, TimerState
from sla.models import SlaPolicy, SlaTimer, TierSpan
from sla.services import policy_for
from tests.factories import request_type
from tests.sla.conftest import sh
from tickets import services as tickets
from tickets.choices import EventKind, PendingReason
from tickets.models import TicketEvent


def timers(ticket) -> dict[str, SlaTimer]:
    """The latest timer of each metric."""
    result = {}
    for timer in SlaTimer.objects.filter(ticket=ticket).order_by("id"):
        result[timer.metric] = timer
    return result


def kinds(ticket) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind__startswith="sla.")
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_p1_clocks_start_at_creation_on_24x7(open_ticket):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P1")
    found = timers(ticket)
    assert set(found) == {Metric.FIRST_RESPONSE, Metric.RESOLUTION}
    first, resolution = found[Metric.FIRST_RESPONSE], found[Metric.RESOLUTION]
    assert first.due_at == sh(2025, 10, 1, 3, 30)
    assert first.warn_at == sh(2025, 10, 1, 3, 22, 30)
    assert resolution.due_at == sh(2025, 10, 1, 5, 0)
    assert resolution.warn_at == sh(2025, 10, 1, 4, 30)
    assert {first.state, resolution.state} == {TimerState.RUNNING}
    assert kinds(ticket) == [EventKind.SLA_STARTED]


def test_starting_twice_changes_nothing(open_ticket):
    from sla.services import sla_timers_start

    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P1")
    assert sla_timers_start(ticket_id=ticket.pk) == []
    assert SlaTimer.objects.filter(ticket=ticket).count() == 2


def test_p3_over_national_day_2025_ends_on_make_up_saturday(open_ticket):
    # Tue 30 Sep 17:00: one working hour left that day, then 1–8 October are holidays.
    # First response (one business day, 7.5 h): 1 h on 30 Sep + 6.5 h on Thu 9 Oct → 17:00.
    # Resolution (3 business days, 22.5 h): 1 h + 7.5 h (9 Oct) + 7.5 h (10 Oct) + 6.5 h on
    # Saturday 11 October, a make-up working day (调休) → 17:00 that Saturday.
    ticket = open_ticket(at=sh(2025, 9, 30, 17, 0), priority="P3")
    found = timers(ticket)
    assert found[Metric.FIRST_RESPONSE].due_at == sh(2025, 10, 9, 17, 0)
    assert found[Metric.RESOLUTION].due_at == sh(2025, 10, 11, 17, 0)
    # 75 % of 22.5 h = 16 h 52 min 30 s: 1 + 7.5 + 7.5 = 16 h by Fri 18:00, + 52.5 min on Sat.
    assert found[Metric.RESOLUTION].warn_at == sh(2025, 10, 11, 9, 52, 30)


def test_p4_make_up_sunday_before_national_day(open_ticket):
    # Fri 26 Sep 2025 09:00; Sunday 28 September is a make-up working day.
    ticket = open_ticket(at=sh(2025, 9, 26, 9, 0), priority="P4")
    # 5 business days = 37.5 h: Fri 26, Sun 28, Mon 29, Tue 30 = 30 h, then all of 9 Oct.
    assert timers(ticket)[Metric.RESOLUTION].due_at == sh(2025, 10, 9, 18, 0)


def test_first_response_met_when_an_agent_takes_it_and_progress_clock_starts(
    open_ticket, desk, django_capture_on_commit_callbacks
):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P1")
    with (
        time_machine.travel(sh(2025, 10, 1, 3, 10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    found = timers(ticket)
    first = found[Metric.FIRST_RESPONSE]
    assert first.state == TimerState.MET
    assert first.met_at == sh(2025, 10, 1, 3, 10)
    assert first.used == timedelta(minutes=10)
    progress = found[Metric.PROGRESS_UPDATE]
    assert progress.state == TimerState.RUNNING
    assert progress.due_at == sh(2025, 10, 1, 3, 40)
    assert found[Metric.RESOLUTION].state == TimerState.RUNNING


def test_pause_while_waiting_on_requester_and_resume_with_remaining_time(
    open_ticket, desk, django_capture_on_commit_callbacks
):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P2")  # resolution 4 h
    with (
        time_machine.travel(sh(2025, 10, 1, 3, 20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    with (
        time_machine.travel(sh(2025, 10, 1, 4, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_suspend(
            ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.REQUESTER
        )
    resolution = timers(ticket)[Metric.RESOLUTION]
    assert resolution.state == TimerState.PAUSED
    assert resolution.used == timedelta(hours=1)
    assert timers(ticket)[Metric.PROGRESS_UPDATE].state == TimerState.PAUSED
    # Three days later the requester answers: the clock resumes with 3 h left.
    with (
        time_machine.travel(sh(2025, 10, 4, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="Here it is")
    resolution.refresh_from_db()
    assert resolution.state == TimerState.RUNNING
    assert resolution.used == timedelta(hours=1)
    assert resolution.due_at == sh(2025, 10, 4, 13, 0)
    assert kinds(ticket) == [
        EventKind.SLA_STARTED,
        EventKind.SLA_PAUSED,
        EventKind.SLA_RESUMED,
    ]


def test_waiting_on_a_vendor_does_not_pause(open_ticket, desk, django_capture_on_commit_callbacks):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P2")
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
        tickets.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.VENDOR)
    assert timers(ticket)[Metric.RESOLUTION].state == TimerState.RUNNING


def test_pause_on_business_calendar_keeps_business_time(
    open_ticket, desk, django_capture_on_commit_callbacks
):
    # P3 from Mon 29 Sep 2025 09:00; paused Mon 17:00 (7 business hours used, lunch excluded).
    ticket = open_ticket(at=sh(2025, 9, 29, 9, 0), priority="P3")
    with (
        time_machine.travel(sh(2025, 9, 29, 9, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    with (
        time_machine.travel(sh(2025, 9, 29, 17, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_suspend(
            ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.REQUESTER
        )
    resolution = timers(ticket)[Metric.RESOLUTION]
    assert resolution.used == timedelta(hours=6, minutes=30)
    # Resumed on a holiday (3 Oct): 16 h left, counted from Thu 9 Oct 09:00.
    with (
        time_machine.travel(sh(2025, 10, 3, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_resume(ticket_id=ticket.pk, actor=desk.tier1)
    resolution.refresh_from_db()
    # 9 Oct 7.5 h, 10 Oct 7.5 h (15 h), then 1 h on Saturday 11 Oct (make-up day) → 10:00.
    assert resolution.due_at == sh(2025, 10, 11, 10, 0)


def test_priority_change_mid_way_keeps_the_time_spent(
    open_ticket, desk, django_capture_on_commit_callbacks
):
    # P3 opened Mon 29 Sep 09:00, raised to P1 at 11:00 (2 business hours used).
    ticket = open_ticket(at=sh(2025, 9, 29, 9, 0), priority="P3")
    with (
        time_machine.travel(sh(2025, 9, 29, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_classify(ticket_id=ticket.pk, actor=None, priority="P1")
    found = timers(ticket)
    resolution = found[Metric.RESOLUTION]
    assert resolution.priority == "P1"
    assert resolution.used == timedelta(hours=2)
    assert resolution.target == timedelta(hours=2)
    # Nothing left: due at once (the sweep breaches it on its next pass).
    assert resolution.due_at == sh(2025, 9, 29, 11, 0)
    first = found[Metric.FIRST_RESPONSE]
    assert first.target == timedelta(minutes=30) and first.due_at == sh(2025, 9, 29, 11, 0)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.SLA_RECALCULATED)
    assert event.data["priority"] == "P1"
    assert event.data["timers"]["resolution"]["used"] == "2:00:00"


def test_priority_lowered_moves_deadline_onto_business_calendar(
    open_ticket, desk, django_capture_on_commit_callbacks
):
    ticket = open_ticket(at=sh(2025, 9, 29, 9, 0), priority="P1")
    with (
        time_machine.travel(sh(2025, 9, 29, 9, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_classify(ticket_id=ticket.pk, actor=None, priority="P4")
    resolution = timers(ticket)[Metric.RESOLUTION]
    # 30 min used of 37.5 h: 37 h left from Mon 09:30 → Mon (7 h), Tue (7.5 h) = 14.5 h; then
    # 9, 10, 11 (Sat, make-up) Oct = 37 h → Sat 11 Oct 18:00.
    assert resolution.used == timedelta(minutes=30)
    assert resolution.due_at == sh(2025, 10, 11, 18, 0)


def test_resolved_meets_resolution_and_reject_resumes_it(
    open_ticket, desk, django_capture_on_commit_callbacks
):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P2")
    with (
        time_machine.travel(sh(2025, 10, 1, 3, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    with (
        time_machine.travel(sh(2025, 10, 1, 4, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution="Fixed")
    found = timers(ticket)
    assert found[Metric.RESOLUTION].state == TimerState.MET
    assert found[Metric.RESOLUTION].used == timedelta(hours=1)
    assert found[Metric.PROGRESS_UPDATE].state == TimerState.STOPPED
    with (
        time_machine.travel(sh(2025, 10, 2, 9, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_reject(ticket_id=ticket.pk, actor=desk.requester, reason="Still broken")
    found = timers(ticket)
    resolution = found[Metric.RESOLUTION]
    assert resolution.state == TimerState.RUNNING and resolution.met_at is None
    assert resolution.due_at == sh(2025, 10, 2, 12, 0)  # 3 h left
    assert found[Metric.PROGRESS_UPDATE].state == TimerState.RUNNING
    assert SlaTimer.objects.filter(ticket=ticket, metric=Metric.RESOLUTION).count() == 1


def test_cancel_stops_every_clock(open_ticket, desk, django_capture_on_commit_callbacks):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P1")
    with django_capture_on_commit_callbacks(execute=True):
        tickets.ticket_cancel(ticket_id=ticket.pk, actor=desk.requester)
    assert {t.state for t in SlaTimer.objects.filter(ticket=ticket)} == {TimerState.STOPPED}


def test_agent_public_reply_restarts_the_progress_clock(
    open_ticket, desk, django_capture_on_commit_callbacks
):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P1")
    with (
        time_machine.travel(sh(2025, 10, 1, 3, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    with (
        time_machine.travel(sh(2025, 10, 1, 3, 25), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="Working on it")
    with (
        time_machine.travel(sh(2025, 10, 1, 3, 26), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="x", is_internal=True)
    progress = list(
        SlaTimer.objects.filter(ticket=ticket, metric=Metric.PROGRESS_UPDATE).order_by("id")
    )
    assert [(t.state, t.started_at) for t in progress] == [
        (TimerState.MET, sh(2025, 10, 1, 3, 5)),
        (TimerState.RUNNING, sh(2025, 10, 1, 3, 25)),
    ]
    assert progress[1].due_at == sh(2025, 10, 1, 3, 55)


def test_tier_spans_follow_dispatch(open_ticket, desk, django_capture_on_commit_callbacks):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P1")
    with (
        time_machine.travel(sh(2025, 10, 1, 3, 20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_dispatch(
            ticket_id=ticket.pk,
            actor=desk.tier1,
            team=desk.middle,
            reason="expert needed",
            escalation=True,
        )
    spans = list(TierSpan.objects.filter(ticket=ticket).order_by("id"))
    assert [(s.tier, s.team_id, s.business_time) for s in spans] == [
        ("front", desk.front.pk, timedelta(minutes=20)),
        ("middle", desk.middle.pk, None),
    ]


def test_most_specific_policy_wins(open_ticket, desk):
    ticket = open_ticket(at=sh(2025, 10, 1, 3, 0), priority="P2")
    default = SlaPolicy.objects.get(priority="P2", request_type=None, unit=None)
    fault = request_type("fault")
    base = {
        "priority": "P2",
        "first_response_target": timedelta(minutes=10),
        "resolution_target": timedelta(hours=1),
        "calendar": default.calendar,
    }
    by_unit = SlaPolicy.objects.create(name="unit", unit=desk.group, **base)
    assert policy_for(ticket) == by_unit
    by_type = SlaPolicy.objects.create(name="type", request_type=fault, **base)
    ticket.request_type = fault
    assert policy_for(ticket) == by_type
    both = SlaPolicy.objects.create(name="both", request_type=fault, unit=desk.unit_a, **base)
    assert policy_for(ticket) == both
    ticket.unit_path = desk.unit_b.path
    assert policy_for(ticket) == by_type
