"""Property: pausing and resuming a clock any number of times keeps its target exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sla.business_time import BusinessCalendar, business_time_between
from sla.choices import TimerState
from sla.models import SlaTimer
from sla.services import _fold, _schedule

CALENDARS = [BusinessCalendar.standard_china(), BusinessCalendar.twenty_four_seven()]


@settings(max_examples=150, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    start=st.datetimes(
        min_value=datetime(2024, 12, 20), max_value=datetime(2026, 12, 20), timezones=st.just(UTC)
    ),
    target_minutes=st.integers(min_value=1, max_value=5_000),
    # (running minutes, paused minutes) pairs, wall clock.
    segments=st.lists(
        st.tuples(st.integers(0, 3_000), st.integers(1, 20_000)), min_size=0, max_size=6
    ),
)
def test_paused_time_never_counts_and_target_is_kept(calendar, start, target_minutes, segments):
    target = timedelta(minutes=target_minutes)
    timer = SlaTimer(
        target=target,
        warn_at_percent=75,
        used=timedelta(0),
        state=TimerState.RUNNING,
        started_at=start,
        segment_started_at=start,
    )
    _schedule(timer, calendar)
    now = start
    paused_business = timedelta(0)
    for running, paused in segments:
        now += timedelta(minutes=running)
        _fold(timer, calendar, now)  # pause: the segment goes into `used`
        timer.state = TimerState.PAUSED
        resume = now + timedelta(minutes=paused)
        paused_business += business_time_between(calendar, now, resume)
        now = resume
        timer.state, timer.segment_started_at = TimerState.RUNNING, now
        _schedule(timer, calendar)
    assert timer.used <= business_time_between(calendar, start, now)
    spent = business_time_between(calendar, start, timer.due_at) - paused_business
    if timer.used <= target:
        # Business time from the start to the deadline, minus the paused stretches, is the
        # target exactly; and the warning comes at its share of it.
        assert spent == target
        assert timer.warn_at <= timer.due_at
    else:
        assert timer.due_at == now  # already overdue when resumed: due at once
