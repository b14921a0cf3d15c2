"""Business-time arithmetic: exact cases checked by hand against the statutory data, DST edge
cases, brute-force oracles, and hypothesis properties for the invariants the SLA engine relies on.

No database and no Django: sla.business_time is pure Python.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.business_time import (
    MAX_IDLE_DAYS,
    BusinessCalendar,
    add_business_time,
    business_time_between,
    china_statutory_years,
    is_working_time,
    next_working_instant,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SANTIAGO = ZoneInfo("America/Santiago")

H = timedelta(hours=1)
DAY_CN = timedelta(hours=7, minutes=30)  # 09:00-12:00 + 13:30-18:00
WEEKDAYS = range(1, 6)

CHINA = BusinessCalendar.standard_china()
NINE_TO_FIVE_BERLIN = BusinessCalendar(
    timezone="Europe/Berlin",
    weekly_hours={d: ((time(9), time(17)),) for d in WEEKDAYS},
    use_china_statutory=False,
)
NINE_TO_FIVE_NEW_YORK = BusinessCalendar(
    timezone="America/New_York",
    weekly_hours={d: ((time(9), time(17)),) for d in WEEKDAYS},
    use_china_statutory=False,
)
ALWAYS_BERLIN = BusinessCalendar.twenty_four_seven("Europe/Berlin")
ALWAYS_NEW_YORK = BusinessCalendar.twenty_four_seven("America/New_York")


def sh(*args: int) -> datetime:
    """An Asia/Shanghai wall time."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def berlin_sunday(hours: tuple[tuple[time, time], ...]) -> BusinessCalendar:
    """Berlin, Mon-Fri 09-17 plus the given Sunday periods (to exercise DST nights)."""
    weekly: dict[int, tuple[tuple[time, time], ...]] = {d: ((time(9), time(17)),) for d in WEEKDAYS}
    weekly[7] = hours
    return BusinessCalendar(
        timezone="Europe/Berlin", weekly_hours=weekly, use_china_statutory=False
    )


# --- the statutory data the examples rely on (checked through the library's own API) ----------


def test_library_covers_2025_and_2026() -> None:
    years = china_statutory_years()
    assert 2025 in years and 2026 in years


def test_library_2025_national_day_data() -> None:
    for day in range(1, 9):
        assert not chinese_calendar.is_workday(date(2025, 10, day))
    assert chinese_calendar.is_workday(date(2025, 9, 28))  # Sunday, make-up day
    assert chinese_calendar.is_workday(date(2025, 10, 11))  # Saturday, make-up day
    assert chinese_calendar.is_workday(date(2025, 10, 9))


def test_library_2026_new_year_and_spring_festival_data() -> None:
    assert not any(chinese_calendar.is_workday(date(2026, 1, d)) for d in (1, 2, 3))
    assert chinese_calendar.is_workday(date(2026, 1, 4))  # Sunday, make-up day
    for day in range(15, 24):
        assert not chinese_calendar.is_workday(date(2026, 2, day))
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # Saturday, make-up day
    assert chinese_calendar.is_workday(date(2026, 2, 28))  # Saturday, make-up day
    assert chinese_calendar.is_workday(date(2026, 2, 24))


def test_calendar_days_agree_with_library_for_2024_to_2026() -> None:
    day = date(2024, 1, 1)
    while day <= date(2026, 12, 31):
        worked = bool(CHINA.hours_on(day))
        assert worked == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


# --- exact cases in China ----------------------------------------------------------------------


def test_national_day_2025_three_business_days_end_on_make_up_saturday() -> None:
    # Tue 30 Sep 17:00-18:00 = 1 h; 1-8 Oct closed; Thu 9 and Fri 10 = 15 h (16 h done);
    # Sat 11 Oct (make-up day) 09-12 = 3 h (19 h); 13:30 + 3.5 h = 17:00.
    result = add_business_time(CHINA, sh(2025, 9, 30, 17), 3 * DAY_CN)
    assert result == sh(2025, 10, 11, 17)
    assert result.tzinfo is UTC
    assert result == utc(2025, 10, 11, 9)
    assert business_time_between(CHINA, sh(2025, 9, 30, 17), result) == 3 * DAY_CN


def test_make_up_sunday_counts() -> None:
    # Fri 26 Sep 17:00-18:00, Sat 27 closed, Sun 28 Sep is a statutory make-up working day.
    assert add_business_time(CHINA, sh(2025, 9, 26, 17), 2 * H) == sh(2025, 9, 28, 10)
    assert is_working_time(CHINA, sh(2025, 9, 28, 9))
    assert not is_working_time(CHINA, sh(2025, 9, 27, 10))
    assert next_working_instant(CHINA, sh(2025, 9, 26, 18)) == sh(2025, 9, 28, 9)


def test_lunch_break_does_not_count() -> None:
    start = sh(2025, 6, 9, 11)  # Monday
    assert add_business_time(CHINA, start, 2 * H) == sh(2025, 6, 9, 14, 30)
    assert business_time_between(CHINA, start, sh(2025, 6, 9, 14, 30)) == 2 * H
    assert business_time_between(CHINA, sh(2025, 6, 9, 12), sh(2025, 6, 9, 13, 30)) == timedelta(0)
    assert is_working_time(CHINA, sh(2025, 6, 9, 11, 59, 59, 999999))
    assert not is_working_time(CHINA, sh(2025, 6, 9, 12))  # periods are half-open
    assert is_working_time(CHINA, sh(2025, 6, 9, 13, 30))
    assert next_working_instant(CHINA, sh(2025, 6, 9, 12, 30)) == sh(2025, 6, 9, 13, 30)


def test_deadline_can_fall_on_the_end_of_a_period() -> None:
    # Earliest instant at which 2 h have elapsed: 12:00, not 13:30.
    assert add_business_time(CHINA, sh(2025, 6, 9, 10), 2 * H) == sh(2025, 6, 9, 12)
    assert add_business_time(CHINA, sh(2025, 6, 9, 9), DAY_CN) == sh(2025, 6, 9, 18)


def test_timer_started_friday_evening() -> None:
    start = sh(2025, 6, 13, 19)  # Friday, after hours
    assert add_business_time(CHINA, start, 4 * H) == sh(2025, 6, 16, 14, 30)  # Monday
    assert next_working_instant(CHINA, start) == sh(2025, 6, 16, 9)
    assert business_time_between(CHINA, start, sh(2025, 6, 16, 9)) == timedelta(0)


def test_new_years_eve_2024_resumes_on_2_january() -> None:
    # Wed 1 Jan 2025 is the only holiday; Thu 2 Jan is a working day.
    assert add_business_time(CHINA, sh(2024, 12, 31, 17), 2 * H) == sh(2025, 1, 2, 10)


def test_new_years_eve_2025_resumes_on_make_up_sunday_4_january() -> None:
    # 2026: 1-3 Jan are closed (Fri 2 Jan is in lieu of Sun 4 Jan, which is worked).
    assert add_business_time(CHINA, sh(2025, 12, 31, 17), 2 * H) == sh(2026, 1, 4, 10)


def test_spring_festival_2026() -> None:
    # Fri 13 Feb 17-18 = 1 h; Sat 14 Feb (make-up) = 7.5 h; 15-23 Feb closed;
    # Tue 24 Feb = 7.5 h (16 h); Wed 25 Feb 09-12 (19 h), 13:30 + 3.5 h = 17:00.
    result = add_business_time(CHINA, sh(2026, 2, 13, 17), 3 * DAY_CN)
    assert result == sh(2026, 2, 25, 17)
    assert business_time_between(CHINA, sh(2026, 2, 14, 0), sh(2026, 2, 24, 0)) == DAY_CN


def test_sixty_business_days_match_a_day_count_from_the_library() -> None:
    # From Mon 1 Dec 2025 09:00, across New Year and Spring Festival 2026: the 60th working day
    # according to chinese_calendar, at 18:00.
    day, counted = date(2025, 12, 1), 0
    while True:
        if chinese_calendar.is_workday(day):
            counted += 1
            if counted == 60:
                break
        day += timedelta(days=1)
    expected = datetime.combine(day, time(18), tzinfo=SHANGHAI)
    assert add_business_time(CHINA, sh(2025, 12, 1, 9), 60 * DAY_CN) == expected


def test_business_day_length() -> None:
    assert CHINA.business_day_length == DAY_CN
    assert NINE_TO_FIVE_BERLIN.business_day_length == 8 * H
    assert ALWAYS_BERLIN.business_day_length == timedelta(days=1)


def test_zero_duration_returns_start_even_outside_hours() -> None:
    saturday = sh(2025, 6, 14, 10)
    assert add_business_time(CHINA, saturday, timedelta(0)) == saturday
    assert add_business_time(CHINA, saturday, timedelta(0)).tzinfo is UTC


def test_input_zone_does_not_matter() -> None:
    local = add_business_time(CHINA, sh(2025, 6, 13, 19), 4 * H)
    assert add_business_time(CHINA, utc(2025, 6, 13, 11), 4 * H) == local
    assert add_business_time(CHINA, sh(2025, 6, 13, 19).astimezone(NEW_YORK), 4 * H) == local


def test_years_outside_the_library_fall_back_to_weekdays() -> None:
    year = china_statutory_years().stop  # first year the installed data does not cover
    day = date(year, 10, 1)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    # National Day is certainly a holiday in reality, but without data it is a plain weekday.
    assert CHINA.hours_on(day) == ((time(9), time(12)), (time(13, 30), time(18)))
    assert CHINA.hours_on(day + timedelta(days=(6 - day.isoweekday()))) == ()  # Saturday


# --- custom holidays and make-up days ----------------------------------------------------------


def test_custom_holiday_closes_a_weekday() -> None:
    cal = BusinessCalendar(weekly_hours=CHINA.weekly_hours, holidays=frozenset({date(2025, 6, 9)}))
    assert add_business_time(cal, sh(2025, 6, 6, 17), 2 * H) == sh(2025, 6, 10, 10)


def test_custom_extra_workday_uses_mondays_hours_by_default() -> None:
    cal = BusinessCalendar(
        weekly_hours=CHINA.weekly_hours, extra_workdays=frozenset({date(2025, 6, 14)})
    )
    assert cal.hours_on(date(2025, 6, 14)) == CHINA.weekly_hours[1]
    assert add_business_time(cal, sh(2025, 6, 13, 17), 2 * H) == sh(2025, 6, 14, 10)


def test_makeup_hours_override() -> None:
    cal = BusinessCalendar(
        weekly_hours=CHINA.weekly_hours,
        extra_workdays=frozenset({date(2025, 6, 14)}),
        makeup_hours=((time(10), time(15)),),
    )
    assert add_business_time(cal, sh(2025, 6, 13, 17), 2 * H) == sh(2025, 6, 14, 11)
    # Statutory make-up days use the same make-up hours.
    assert cal.hours_on(date(2025, 10, 11)) == ((time(10), time(15)),)


def test_custom_holiday_beats_statutory_make_up_day() -> None:
    cal = BusinessCalendar(
        weekly_hours=CHINA.weekly_hours, holidays=frozenset({date(2025, 10, 11)})
    )
    # 1 h + Thu 9 + Fri 10 Oct = 16 h; Mon 13 Oct 09-12 (19 h), 13:30 + 3.5 h.
    assert add_business_time(cal, sh(2025, 9, 30, 17), 3 * DAY_CN) == sh(2025, 10, 13, 17)


def test_statutory_data_can_be_switched_off() -> None:
    cal = BusinessCalendar(weekly_hours=CHINA.weekly_hours, use_china_statutory=False)
    assert cal.hours_on(date(2025, 10, 1)) == CHINA.weekly_hours[3]
    assert cal.hours_on(date(2025, 10, 11)) == ()


# --- DST in other zones ------------------------------------------------------------------------


def test_berlin_across_spring_forward_2025() -> None:
    # Fri 28 Mar 16:00 CET (+01) -> Mon 31 Mar 10:00 CEST (+02).
    start = datetime(2025, 3, 28, 16, tzinfo=BERLIN)
    result = add_business_time(NINE_TO_FIVE_BERLIN, start, 2 * H)
    assert result == datetime(2025, 3, 31, 10, tzinfo=BERLIN) == utc(2025, 3, 31, 8)
    assert business_time_between(NINE_TO_FIVE_BERLIN, start, result) == 2 * H


def test_berlin_across_fall_back_2025() -> None:
    start = datetime(2025, 10, 24, 16, tzinfo=BERLIN)  # Friday, CEST
    result = add_business_time(NINE_TO_FIVE_BERLIN, start, 2 * H)
    assert result == datetime(2025, 10, 27, 10, tzinfo=BERLIN) == utc(2025, 10, 27, 9)


def test_new_york_across_fall_back_2025() -> None:
    start = datetime(2025, 10, 31, 16, tzinfo=NEW_YORK)  # Friday, EDT
    result = add_business_time(NINE_TO_FIVE_NEW_YORK, start, 2 * H)
    assert result == utc(2025, 11, 3, 15)  # Monday 10:00 EST


@pytest.mark.parametrize(
    ("sunday", "hours", "expected"),
    [
        # 01:00-05:00 wall clock: 3 real hours when clocks go forward, 5 when they go back.
        (date(2025, 3, 30), ((time(1), time(5)),), 3 * H),
        (date(2025, 10, 26), ((time(1), time(5)),), 5 * H),
        (date(2025, 3, 23), ((time(1), time(5)),), 4 * H),
        # Start inside the gap: the period starts when the gap ends (03:00 CEST).
        (date(2025, 3, 30), ((time(2, 30), time(4)),), 1 * H),
        # Start in the repeated hour: first occurrence (02:30 CEST) until 04:00 CET.
        (date(2025, 10, 26), ((time(2, 30), time(4)),), timedelta(hours=2, minutes=30)),
        # A period entirely inside the gap does not exist that day.
        (date(2025, 3, 30), ((time(2), time(3)),), timedelta(0)),
        (date(2025, 3, 23), ((time(2), time(3)),), 1 * H),
    ],
)
def test_berlin_periods_on_dst_nights(
    sunday: date, hours: tuple[tuple[time, time], ...], expected: timedelta
) -> None:
    cal = berlin_sunday(hours)
    begin = datetime.combine(sunday, time(0), tzinfo=BERLIN)
    end = datetime.combine(sunday + timedelta(days=1), time(0), tzinfo=BERLIN)
    assert business_time_between(cal, begin, end) == expected


def test_berlin_period_starting_in_gap_and_fold_instants() -> None:
    gap = berlin_sunday(((time(2, 30), time(4)),))
    saturday = datetime(2025, 3, 29, 12, tzinfo=BERLIN)
    assert next_working_instant(gap, saturday) == utc(2025, 3, 30, 1)  # 03:00 CEST
    assert not is_working_time(gap, utc(2025, 3, 30, 0, 59, 59))
    fold_saturday = datetime(2025, 10, 25, 12, tzinfo=BERLIN)
    assert next_working_instant(gap, fold_saturday) == utc(2025, 10, 26, 0, 30)  # 02:30 CEST
    assert is_working_time(gap, utc(2025, 10, 26, 1, 30))  # 02:30 CET, second pass
    assert not is_working_time(gap, utc(2025, 10, 26, 3))  # 04:00 CET


def test_midnight_gap_in_santiago() -> None:
    # Chile moves clocks from Sat 24:00 to Sun 01:00 (2025-09-07 04:00 UTC): Sunday starts at 01:00
    # and has 23 h; on 2025-04-05 the clocks go back at Sat 24:00, so Saturday has 25 h.
    whole_day = ((time(0), time(0)),)
    cal = BusinessCalendar(
        timezone="America/Santiago",
        weekly_hours={6: whole_day, 7: whole_day},
        use_china_statutory=False,
    )
    friday = datetime(2025, 9, 5, 12, tzinfo=SANTIAGO)
    assert next_working_instant(cal, friday) == datetime(2025, 9, 6, 0, tzinfo=SANTIAGO)
    assert (
        business_time_between(
            cal, datetime(2025, 9, 6, 0, tzinfo=SANTIAGO), datetime(2025, 9, 8, 0, tzinfo=SANTIAGO)
        )
        == 24 * H + 23 * H
    )
    assert cal.hours_on(date(2025, 9, 7)) == whole_day
    assert (
        business_time_between(
            cal, datetime(2025, 4, 5, 0, tzinfo=SANTIAGO), datetime(2025, 4, 7, 0, tzinfo=SANTIAGO)
        )
        == 25 * H + 24 * H
    )
    # 47 h from Saturday 00:00 runs to the end of the short Sunday.
    assert add_business_time(cal, datetime(2025, 9, 6, 0, tzinfo=SANTIAGO), 47 * H) == utc(
        2025, 9, 8, 3
    )


def test_twenty_four_seven_is_absolute_time_across_dst() -> None:
    start = datetime(2025, 3, 8, 12, tzinfo=NEW_YORK)  # EST
    result = add_business_time(ALWAYS_NEW_YORK, start, 24 * H)
    assert result == datetime(2025, 3, 9, 13, tzinfo=NEW_YORK)  # 13:00 EDT: 24 real hours
    assert result != start + 24 * H  # wall-clock addition would give 12:00 EDT
    day_begin = datetime(2025, 3, 30, 0, tzinfo=BERLIN)
    day_end = datetime(2025, 3, 31, 0, tzinfo=BERLIN)
    assert business_time_between(ALWAYS_BERLIN, day_begin, day_end) == 23 * H
    fall_begin = datetime(2025, 10, 26, 0, tzinfo=BERLIN)
    fall_end = datetime(2025, 10, 27, 0, tzinfo=BERLIN)
    assert business_time_between(ALWAYS_BERLIN, fall_begin, fall_end) == 25 * H
    assert is_working_time(ALWAYS_BERLIN, fall_begin)
    assert next_working_instant(ALWAYS_BERLIN, fall_begin) == fall_begin


# --- validation --------------------------------------------------------------------------------


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2025, 6, 9, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(CHINA, naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(CHINA, naive, sh(2025, 6, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(CHINA, sh(2025, 6, 9), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working_time(CHINA, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_working_instant(CHINA, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(ALWAYS_BERLIN, naive, H)


def test_negative_duration_and_reversed_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(CHINA, sh(2025, 6, 9, 10), -H)
    with pytest.raises(ValueError, match="before start"):
        business_time_between(CHINA, sh(2025, 6, 9, 10), sh(2025, 6, 9, 9))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weekly_hours": {}},
        {"weekly_hours": {d: () for d in range(1, 8)}},
        {"weekly_hours": {0: ((time(9), time(17)),)}},
        {"weekly_hours": {8: ((time(9), time(17)),)}},
        {"weekly_hours": {1: ((time(17), time(9)),)}},
        {"weekly_hours": {1: ((time(9), time(9)),)}},
        {"weekly_hours": {1: ((time(9), time(13)), (time(12), time(18)))}},
        {"weekly_hours": {1: ((time(9), time(0)), (time(20), time(22)))}},
        {"weekly_hours": {1: ((time(9, tzinfo=UTC), time(17)),)}},
        {"weekly_hours": {1: (("09:00", "17:00"),)}},
        {"weekly_hours": {1: ((time(9),),)}},
        {"weekly_hours": {1: ((time(9), time(17)),)}, "timezone": "Mars/Olympus_Mons"},
        {
            "weekly_hours": {1: ((time(9), time(17)),)},
            "holidays": frozenset({date(2025, 6, 14)}),
            "extra_workdays": frozenset({date(2025, 6, 14)}),
        },
        {
            "weekly_hours": {1: ((time(9), time(17)),)},
            "holidays": frozenset({datetime(2025, 6, 9, tzinfo=UTC)}),
        },
    ],
)
def test_invalid_calendars_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(**kwargs)


def test_calendar_closed_for_years_raises_instead_of_looping() -> None:
    mondays = frozenset(date(2025, 6, 2) + timedelta(weeks=w) for w in range(200))
    cal = BusinessCalendar(
        weekly_hours={1: ((time(9), time(17)),)}, holidays=mondays, use_china_statutory=False
    )
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(cal, sh(2025, 6, 1), H)
    with pytest.raises(ValueError, match="no working time"):
        next_working_instant(cal, sh(2025, 6, 1))
    assert MAX_IDLE_DAYS < 200 * 7


def test_calendars_are_values() -> None:
    a = BusinessCalendar(weekly_hours={1: ((time(13), time(18)), (time(9), time(12)))})
    b = BusinessCalendar(weekly_hours={1: [(time(9), time(12)), (time(13), time(18))], 2: ()})
    assert a == b and hash(a) == hash(b)
    assert BusinessCalendar.standard_china() == CHINA
    assert hash(BusinessCalendar.standard_china()) == hash(CHINA)
    assert a != CHINA
    with pytest.raises(AttributeError):
        CHINA.timezone = "UTC"  # type: ignore[misc]


# --- brute-force oracles -----------------------------------------------------------------------

MINUTE = timedelta(minutes=1)


@cache
def _cn_workday(day: date) -> bool:
    return chinese_calendar.is_workday(day)


def _china_oracle(instant: datetime) -> bool:
    """Wall-clock membership, with the library's own is_workday()."""
    local = instant.astimezone(SHANGHAI)
    if not _cn_workday(local.date()):
        return False
    wall = local.time()
    return time(9) <= wall < time(12) or time(13, 30) <= wall < time(18)


BERLIN_ORACLE_HOURS = {
    **{d: ((time(8), time(12)), (time(13), time(17))) for d in WEEKDAYS},
    7: ((time(1), time(4)),),  # spans both DST nights' odd hours
}
BERLIN_ORACLE = BusinessCalendar(
    timezone="Europe/Berlin", weekly_hours=BERLIN_ORACLE_HOURS, use_china_statutory=False
)


def _berlin_oracle(instant: datetime) -> bool:
    local = instant.astimezone(BERLIN)
    wall = local.time()
    return any(s <= wall < e for s, e in BERLIN_ORACLE_HOURS.get(local.isoweekday(), ()))


ORACLE_CASES = [
    (CHINA, _china_oracle, utc(2025, 9, 25)),
    (CHINA, _china_oracle, utc(2025, 12, 29)),
    (CHINA, _china_oracle, utc(2026, 2, 11)),
    (BERLIN_ORACLE, _berlin_oracle, utc(2025, 3, 27)),
    (BERLIN_ORACLE, _berlin_oracle, utc(2025, 10, 23)),
]


@settings(max_examples=25, deadline=None)
@given(
    case=st.sampled_from(ORACLE_CASES),
    offset_minutes=st.integers(0, 6 * 24 * 60),
    length_minutes=st.integers(0, 4 * 24 * 60),
)
def test_between_matches_minute_by_minute_oracle(
    case: tuple, offset_minutes: int, length_minutes: int
) -> None:
    calendar, oracle, base = case
    start = base + offset_minutes * MINUTE
    counted = timedelta(0)
    instant = start
    for _ in range(length_minutes):
        working = oracle(instant)
        assert is_working_time(calendar, instant) == working, instant
        counted += MINUTE if working else timedelta(0)
        instant += MINUTE
    assert business_time_between(calendar, start, instant) == counted


# --- properties --------------------------------------------------------------------------------

PROPERTY_CALENDARS = [
    CHINA,
    NINE_TO_FIVE_BERLIN,
    BERLIN_ORACLE,
    berlin_sunday(((time(2, 30), time(4)), (time(4), time(0)))),
    BusinessCalendar(
        timezone="America/New_York",
        weekly_hours={
            **{d: ((time(8), time(12)), (time(12, 30), time(17))) for d in WEEKDAYS},
            6: ((time(20), time(0)),),
            7: ((time(0), time(0)),),
        },
        use_china_statutory=False,
    ),
    BusinessCalendar(
        timezone="Asia/Shanghai",
        weekly_hours={
            **{d: CHINA.weekly_hours[d] for d in WEEKDAYS},
            6: ((time(10), time(14)),),
        },
        holidays=frozenset({date(2025, 6, 9), date(2026, 12, 25)}),
        extra_workdays=frozenset({date(2025, 6, 15)}),
        makeup_hours=((time(8), time(20)),),
    ),
    ALWAYS_BERLIN,
    ALWAYS_NEW_YORK,
]
INTERESTING_TIMES = [
    time(0), time(1), time(2), time(2, 30), time(3), time(4), time(8), time(9), time(12),
    time(12, 30), time(13, 30), time(17), time(18), time(20), time(23, 59, 59, 999999),
]  # fmt: skip
ZONES = [SHANGHAI, BERLIN, NEW_YORK]

anywhere = st.datetimes(
    min_value=datetime(2024, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC)
)
on_a_boundary = st.builds(
    lambda day, wall, zone, fold: datetime.combine(day, wall, tzinfo=zone).replace(fold=fold),
    st.dates(min_value=date(2024, 12, 1), max_value=date(2027, 2, 1)),
    st.sampled_from(INTERESTING_TIMES),
    st.sampled_from(ZONES),
    st.integers(0, 1),
)
instants = st.one_of(anywhere, on_a_boundary)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=10)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=15)),
    st.integers(0, 10).map(lambda n: n * DAY_CN),
)
calendars = st.sampled_from(PROPERTY_CALENDARS)


def u(instant: datetime) -> datetime:
    """The instant in UTC. Test assertions compare in UTC because Python compares and subtracts
    aware datetimes that share a tzinfo by wall time (ignoring fold), and an ambiguous local
    datetime never equals one in another zone (PEP 495)."""
    return instant.astimezone(UTC)


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(calendar=calendars, start=instants, duration=durations)
def test_between_inverts_add(calendar: BusinessCalendar, start: datetime, duration: timedelta):
    end = add_business_time(calendar, start, duration)
    assert end.tzinfo is UTC
    assert end >= u(start)
    assert business_time_between(calendar, start, end) == duration
    if duration > timedelta(0):
        # The clock was running just before the deadline.
        assert is_working_time(calendar, end - timedelta(microseconds=1))


@PROPERTY_SETTINGS
@given(calendar=calendars, start=instants, a=durations, b=durations)
def test_add_is_monotonic_and_additive(
    calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    first = add_business_time(calendar, start, a)
    assert add_business_time(calendar, first, b) == add_business_time(calendar, start, a + b)
    small, large = sorted((a, b))
    assert add_business_time(calendar, start, small) <= add_business_time(calendar, start, large)


@PROPERTY_SETTINGS
@given(calendar=calendars, s1=instants, s2=instants, duration=durations)
def test_add_is_monotonic_in_start(
    calendar: BusinessCalendar, s1: datetime, s2: datetime, duration: timedelta
) -> None:
    early, late = sorted((s1, s2), key=u)
    assert add_business_time(calendar, early, duration) <= add_business_time(
        calendar, late, duration
    )


@PROPERTY_SETTINGS
@given(calendar=calendars, points=st.lists(instants, min_size=3, max_size=3))
def test_between_is_additive_and_bounded(calendar: BusinessCalendar, points: list[datetime]):
    a, b, c = sorted(points, key=u)
    whole = business_time_between(calendar, a, c)
    assert whole == business_time_between(calendar, a, b) + business_time_between(calendar, b, c)
    assert timedelta(0) <= whole <= u(c) - u(a)


@PROPERTY_SETTINGS
@given(calendar=calendars, at=instants)
def test_next_working_instant(calendar: BusinessCalendar, at: datetime) -> None:
    nxt = next_working_instant(calendar, at)
    assert nxt.tzinfo is UTC
    assert nxt >= u(at)
    assert is_working_time(calendar, nxt)
    assert business_time_between(calendar, at, nxt) == timedelta(0)
    if is_working_time(calendar, at):
        assert nxt == u(at)
    else:
        # Zero business time from `at` is `at` itself, while any positive amount starts later.
        assert add_business_time(calendar, at, timedelta(microseconds=1)) == nxt + timedelta(
            microseconds=1
        )


@PROPERTY_SETTINGS
@given(
    calendar=st.sampled_from([ALWAYS_BERLIN, ALWAYS_NEW_YORK]),
    start=instants,
    duration=durations,
    end=instants,
)
def test_twenty_four_seven_is_wall_clock_in_absolute_time(
    calendar: BusinessCalendar, start: datetime, duration: timedelta, end: datetime
) -> None:
    assert add_business_time(calendar, start, duration) == u(start) + duration
    low, high = sorted((start, end), key=u)
    assert business_time_between(calendar, low, high) == u(high) - u(low)
    assert is_working_time(calendar, start)
