"""Exact business-time arithmetic for SLA clocks (PRODUCT.md §6).

Pure Python on purpose (no Django import): the SLA engine calls these functions for every ticket
and every timer, and the tests exercise them with property-based testing without a database.

Model
-----
A :class:`BusinessCalendar` says, for every *local date* in its time zone, which local wall-clock
periods are worked. Each period is mapped to an interval of absolute time ``[start, end)`` and all
arithmetic is done on those absolute intervals, so a business hour is always a real hour, also on
days with a daylight-saving change.

Mapping a local wall time to an absolute instant (``_to_utc``):

* a normal local time maps to its only instant;
* an *ambiguous* local time (clocks going back, the hour is shown twice) maps to its **first**
  occurrence (PEP 495 ``fold=0``): a period "01:00-05:00" on such a day lasts five real hours;
* a *non-existent* local time (clocks going forward) maps to the instant the gap ends, i.e. the
  first instant whose wall time is later: a period "01:00-05:00" on such a day lasts three real
  hours and a period lying entirely inside the gap is empty.

This mapping is monotonic, so the intervals of one day and of consecutive days never overlap.

Which hours apply on a local date, first match wins:

1. ``holidays`` (custom closures) -> not worked;
2. ``extra_workdays`` (custom make-up days) -> the make-up hours;
3. with ``use_china_statutory`` and a year covered by ``chinese_calendar``: a statutory make-up
   working day (调休, e.g. Sunday 2025-09-28) -> the make-up hours; a statutory holiday -> not
   worked;
4. otherwise ``weekly_hours[date.isoweekday()]``.

Years the installed ``chinese_calendar`` does not cover (see :func:`china_statutory_years`) fall
back to plain weekday rules plus the custom dates, silently: the caller should warn an
administrator to enter that year's holidays by hand (or upgrade the package).

Conventions
-----------
* Every datetime argument must be timezone-aware (naive -> ``ValueError``).
* Every returned datetime is aware and in **UTC** (``datetime.UTC``). Convert for display only.
* Intervals are half-open: the first instant of a period is working time, its end is not.
* ``add_business_time`` returns the *earliest* instant at which the duration has elapsed, so a
  deadline can fall on the end of a period (18:00 today rather than 09:00 tomorrow).
* A zero duration returns the start itself (converted to UTC) even outside working hours; a
  negative duration is a ``ValueError``.
* ``business_time_between`` with ``end < start`` is a ``ValueError`` (it always indicates a bug in
  the caller, so it should not be silently turned into zero).
* ``always_open`` calendars (P1/P2, 24x7) ignore hours and holidays entirely: business time is
  absolute elapsed time, so it equals wall-clock time except across DST changes, where it is the
  real elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

__all__ = [
    "BusinessCalendar",
    "DayHours",
    "Period",
    "add_business_time",
    "business_time_between",
    "china_statutory_years",
    "is_working_time",
    "next_working_instant",
    "official_schedule_years",
    "set_official_schedules",
    "statutory_years_covered",
]

#: One working period of a day: (start, end) local wall times. ``end == time(0)`` means 24:00.
Period = tuple[time, time]
#: All working periods of one day, e.g. a morning and an afternoon around a lunch break.
DayHours = tuple[Period, ...]
# An absolute interval [start, end) in UTC.
_Interval = tuple[datetime, datetime]
# A period as offsets from local midnight; this lets "24:00" be represented as one day.
_Offsets = tuple[tuple[timedelta, timedelta], ...]

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_MIDNIGHT = time(0)

# Give up after this many consecutive calendar days without any working time. A real calendar
# is never closed this long (the longest Chinese closure is ~9 days); hitting the limit means a
# misconfigured calendar, and a ValueError beats a loop that never ends.
MAX_IDLE_DAYS = 731
# Per-calendar cache of computed days. Bounded so a long-running worker cannot grow it forever;
# the working set (a few months around "now") is far smaller.
_DAY_CACHE_LIMIT = 20_000

# China's statutory calendar, read once. Membership tests on these frozensets are what the hot
# loop uses: chinese_calendar.is_workday() re-derives the supported year range on every call
# (tens of microseconds), which would dominate the cost of a day.
_CN_HOLIDAYS: frozenset[date] = frozenset(chinese_calendar.holidays)
_CN_WORKDAYS: frozenset[date] = frozenset(chinese_calendar.workdays)
_CN_YEARS = range(
    min(d.year for d in _CN_HOLIDAYS),
    max(d.year for d in _CN_HOLIDAYS) + 1,
)


def china_statutory_years() -> range:
    """Years for which the installed ``chinese_calendar`` knows holidays and 调休 make-up days.

    Outside this range a calendar with ``use_china_statutory`` uses plain weekday rules.
    """
    return _CN_YEARS


# Official schedules an administrator imported (sla/holidays.py loads them from the database
# into every process): year -> (holidays, make-up working days). A year here takes precedence
# over chinese_calendar's data for that year. The version lets each calendar drop the days it
# computed with older schedules.
_official: Mapping[int, tuple[frozenset[date], frozenset[date]]] = MappingProxyType({})
_official_version = 0


def set_official_schedules(years: Mapping[int, tuple[Iterable[date], Iterable[date]]]) -> bool:
    """Replace the imported official schedules; True when they changed."""
    global _official, _official_version
    new = {year: (frozenset(h), frozenset(w)) for year, (h, w) in years.items()}
    if new == dict(_official):
        return False
    _official = MappingProxyType(new)
    _official_version += 1
    return True


def official_schedule_years() -> frozenset[int]:
    """Years with an imported official schedule."""
    return frozenset(_official)


def statutory_years_covered() -> frozenset[int]:
    """Years whose statutory holidays and make-up days are known (package or import)."""
    return frozenset(_CN_YEARS) | frozenset(_official)


def _as_offset(value: time) -> timedelta:
    """Offset of a wall time from local midnight."""
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _normalize_hours(raw: Iterable[Period], what: str) -> DayHours:
    """Validate one day's periods and return them sorted; reject overlaps and empty periods."""
    periods: list[Period] = []
    for item in raw:
        try:
            start, end = item
        except (TypeError, ValueError):
            raise ValueError(f"{what}: a period must be a (start, end) pair: {item!r}") from None
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"{what}: period bounds must be datetime.time, got {item!r}")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{what}: period bounds are local wall times, without tzinfo")
        end_offset = _ONE_DAY if end == _MIDNIGHT else _as_offset(end)
        if _as_offset(start) >= end_offset:
            raise ValueError(f"{what}: period {start}-{end} is empty or reversed")
        periods.append((start, end))
    periods.sort(key=lambda p: _as_offset(p[0]))
    for (_, prev_end), (next_start, _) in pairwise(periods):
        if prev_end == _MIDNIGHT or _as_offset(prev_end) > _as_offset(next_start):
            raise ValueError(f"{what}: periods overlap")
    return tuple(periods)


def _offsets(hours: DayHours) -> _Offsets:
    return tuple(
        (_as_offset(start), _ONE_DAY if end == _MIDNIGHT else _as_offset(end))
        for start, end in hours
    )


def _normalize_dates(raw: Iterable[date], what: str) -> frozenset[date]:
    dates = frozenset(raw)
    for value in dates:
        # datetime is a subclass of date but never equals one, so it would silently not match.
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValueError(f"{what} must contain datetime.date values, got {value!r}")
    return dates


def _require_aware(name: str, value: datetime) -> datetime:
    """Return ``value`` in UTC; reject naive datetimes (their instant is unknown)."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class BusinessCalendar:
    """When the business clock runs: working hours in a time zone, minus holidays.

    ``weekly_hours`` maps ISO weekday 1..7 (Mon..Sun) to that day's periods; a missing weekday is
    not worked. ``makeup_hours`` are used on make-up working days (custom ``extra_workdays`` and,
    with ``use_china_statutory``, China's 调休 days); by default Monday's hours (or those of the
    first weekday that has hours). Instances are immutable and hashable; each keeps a private cache
    of computed days, so reuse one instance rather than building a new one per call.
    """

    timezone: str = "Asia/Shanghai"
    weekly_hours: Mapping[int, DayHours]
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    makeup_hours: DayHours | None = None
    use_china_statutory: bool = True
    always_open: bool = False

    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _weekly: tuple[_Offsets, ...] = field(init=False, repr=False, compare=False)
    _makeup: _Offsets = field(init=False, repr=False, compare=False)
    _days: dict[date, tuple[_Interval, ...]] = field(init=False, repr=False, compare=False)
    _days_version: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        # object.__setattr__ because the dataclass is frozen; normalizing here makes equal
        # calendars compare and hash equal regardless of how they were spelled.
        setattr_ = object.__setattr__
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        setattr_(self, "_zone", zone)

        weekly: dict[int, DayHours] = {}
        for weekday in self.weekly_hours:
            if weekday not in range(1, 8) or isinstance(weekday, bool):
                raise ValueError(f"weekly_hours keys must be ISO weekdays 1..7, got {weekday!r}")
        for weekday in range(1, 8):
            weekly[weekday] = _normalize_hours(
                self.weekly_hours.get(weekday, ()), f"weekly_hours[{weekday}]"
            )
        setattr_(self, "weekly_hours", MappingProxyType(weekly))
        setattr_(self, "_weekly", tuple(_offsets(weekly[wd]) for wd in range(1, 8)))

        if not self.always_open and not any(weekly.values()):
            raise ValueError("calendar has no working hours at all")

        if self.makeup_hours is not None:
            makeup = _normalize_hours(self.makeup_hours, "makeup_hours")
            setattr_(self, "makeup_hours", makeup)
        else:
            makeup = next((hours for hours in weekly.values() if hours), ())
        setattr_(self, "_makeup", _offsets(makeup))

        holidays = _normalize_dates(self.holidays, "holidays")
        extra = _normalize_dates(self.extra_workdays, "extra_workdays")
        if holidays & extra:
            clash = ", ".join(sorted(d.isoformat() for d in holidays & extra))
            raise ValueError(f"dates both holiday and extra workday: {clash}")
        setattr_(self, "holidays", holidays)
        setattr_(self, "extra_workdays", extra)
        setattr_(self, "_days", {})
        setattr_(self, "_days_version", _official_version)

    def __hash__(self) -> int:
        # Explicit because weekly_hours is a mapping (unhashable); the dataclass keeps this one.
        return hash(
            (
                self.timezone,
                tuple(self.weekly_hours.items()),
                self.holidays,
                self.extra_workdays,
                self.makeup_hours,
                self.use_china_statutory,
                self.always_open,
            )
        )

    @classmethod
    def standard_china(cls) -> BusinessCalendar:
        """Mon-Fri 09:00-12:00 and 13:30-18:00 Asia/Shanghai, statutory holidays and 调休 on."""
        day: DayHours = ((time(9), time(12)), (time(13, 30), time(18)))
        return cls(
            timezone="Asia/Shanghai",
            weekly_hours={weekday: day for weekday in range(1, 6)},
            use_china_statutory=True,
        )

    @classmethod
    def twenty_four_seven(cls, timezone: str = "Asia/Shanghai") -> BusinessCalendar:
        """Always open (P1/P2): business time is real elapsed time."""
        whole_day: DayHours = ((_MIDNIGHT, _MIDNIGHT),)
        return cls(
            timezone=timezone,
            weekly_hours={weekday: whole_day for weekday in range(1, 8)},
            use_china_statutory=False,
            always_open=True,
        )

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone object."""
        return self._zone

    @property
    def business_day_length(self) -> timedelta:
        """Length of one standard working day (the make-up hours, by default Monday's).

        Used to turn an SLA target in business days into a duration: "3 business days" with
        the standard Chinese day is ``3 * 7.5 h``.
        """
        if self.always_open:
            return _ONE_DAY
        return sum((end - start for start, end in self._makeup), timedelta(0))

    def hours_on(self, day: date) -> DayHours:
        """The local working periods that apply on ``day`` (after holidays and make-up days)."""
        offsets = self._offsets_on(day)
        midnight = datetime.combine(day, _MIDNIGHT)
        return tuple(((midnight + start).time(), (midnight + end).time()) for start, end in offsets)

    def _offsets_on(self, day: date) -> _Offsets:
        if day in self.holidays:
            return ()
        if day in self.extra_workdays:
            return self._makeup
        official = _official.get(day.year) if self.use_china_statutory else None
        if official is not None:
            holidays, workdays = official
            if day in workdays:
                return self._makeup
            if day in holidays:
                return ()
        elif self.use_china_statutory and day.year in _CN_YEARS:
            if day in _CN_WORKDAYS:
                return self._makeup
            if day in _CN_HOLIDAYS:
                return ()
        return self._weekly[day.weekday()]

    def _intervals(self, day: date) -> tuple[_Interval, ...]:
        """Absolute working intervals of a local date, sorted and non-empty; cached."""
        if self._days_version != _official_version:
            # Official schedules changed since these days were computed.
            self._days.clear()
            object.__setattr__(self, "_days_version", _official_version)
        cached = self._days.get(day)
        if cached is not None:
            return cached
        midnight = datetime.combine(day, _MIDNIGHT)
        intervals: list[_Interval] = []
        for start, end in self._offsets_on(day):
            # Naive + timedelta is wall-clock arithmetic, which is what a local period means.
            abs_start = self._to_utc(midnight + start)
            abs_end = self._to_utc(midnight + end)
            if abs_start < abs_end:  # a period inside a DST gap vanishes
                intervals.append((abs_start, abs_end))
        result = tuple(intervals)
        if len(self._days) >= _DAY_CACHE_LIMIT:
            self._days.clear()
        self._days[day] = result
        return result

    def _to_utc(self, local: datetime) -> datetime:
        """Map a naive local wall time to an instant (see the module docstring for the rules)."""
        instant = local.replace(tzinfo=self._zone).astimezone(UTC)  # fold=0: first occurrence
        if instant.astimezone(self._zone).replace(tzinfo=None) == local:
            return instant
        return self._gap_end(local)

    def _gap_end(self, local: datetime) -> datetime:
        """The instant a DST gap containing the non-existent wall time ``local`` ends.

        zoneinfo would shift such a time by the gap length instead (PEP 495), which would make
        a period starting inside the gap shorter than the wall clock shows. The transition
        instant is not exposed by zoneinfo, so bisect for it; gaps are rare, ~40 steps.
        """
        before = local.replace(tzinfo=self._zone, fold=0).utcoffset()
        after = local.replace(tzinfo=self._zone, fold=1).utcoffset()
        assert before is not None and after is not None  # ZoneInfo always has an offset
        low = (local - after).replace(tzinfo=UTC)  # wall time there is before `local`
        high = (local - before).replace(tzinfo=UTC)  # wall time there is at or after `local`
        while high - low > _ONE_MICROSECOND:
            middle = low + (high - low) // 2
            if middle.astimezone(self._zone).replace(tzinfo=None) >= local:
                high = middle
            else:
                low = middle
        return high

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self._zone).date()


def _next_day(day: date) -> date:
    try:
        return day + _ONE_DAY
    except OverflowError:
        raise ValueError("business time runs past the last representable date") from None


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant (UTC) at which ``duration`` of business time has elapsed after ``start``.

    Walks the calendar day by day over cached absolute intervals, never minute by minute.
    Zero duration returns ``start`` (in UTC) even outside working hours; a negative duration or a
    naive ``start`` raises ``ValueError``; so does a calendar closed for ``MAX_IDLE_DAYS`` days.
    """
    current = _require_aware("start", start)
    if not isinstance(duration, timedelta):
        raise ValueError(f"duration must be a timedelta, got {type(duration).__name__}")
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    if duration == timedelta(0):
        return current
    if calendar.always_open:
        # Addition in UTC is absolute; adding to a local aware datetime would be wall-clock.
        return current + duration

    remaining = duration
    day = calendar._local_date(current)
    idle_days = 0
    while True:
        intervals = calendar._intervals(day)
        for interval_start, interval_end in intervals:
            if interval_end <= current:
                continue
            begin = max(interval_start, current)
            available = interval_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        idle_days = 0 if intervals else idle_days + 1
        if idle_days > MAX_IDLE_DAYS:
            raise ValueError(f"calendar has no working time for {MAX_IDLE_DAYS} days")
        day = _next_day(day)


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time elapsed in ``[start, end)``; ``ValueError`` if ``end`` is before ``start``."""
    begin = _require_aware("start", start)
    finish = _require_aware("end", end)
    if finish < begin:
        raise ValueError("end is before start")
    if calendar.always_open:
        # Both in UTC: subtracting aware datetimes sharing a tzinfo would be wall-clock.
        return finish - begin

    total = timedelta(0)
    day = calendar._local_date(begin)
    # One day past end's local date: around a fall-back at midnight, the next day's first
    # period can start before an instant whose local date is still the previous day.
    last_day = _next_day(calendar._local_date(finish))
    while day <= last_day:
        for interval_start, interval_end in calendar._intervals(day):
            if interval_start >= finish:
                break
            overlap_start = max(interval_start, begin)
            overlap_end = min(interval_end, finish)
            if overlap_end > overlap_start:
                total += overlap_end - overlap_start
        day = _next_day(day)
    return total


def is_working_time(calendar: BusinessCalendar, at: datetime) -> bool:
    """Whether the business clock runs at the instant ``at``."""
    instant = _require_aware("at", at)
    if calendar.always_open:
        return True
    day = calendar._local_date(instant)
    # The next day is checked too for the fall-back-at-midnight case described above.
    for candidate in (day, _next_day(day)):
        for interval_start, interval_end in calendar._intervals(candidate):
            if interval_start <= instant < interval_end:
                return True
    return False


def next_working_instant(calendar: BusinessCalendar, at: datetime) -> datetime:
    """``at`` itself (UTC) if it is working time, else the start of the next working period."""
    instant = _require_aware("at", at)
    if calendar.always_open:
        return instant
    day = calendar._local_date(instant)
    idle_days = 0
    while True:
        intervals = calendar._intervals(day)
        for interval_start, interval_end in intervals:
            if interval_end > instant:
                return max(interval_start, instant)
        idle_days = 0 if intervals else idle_days + 1
        if idle_days > MAX_IDLE_DAYS:
            raise ValueError(f"calendar has no working time for {MAX_IDLE_DAYS} days")
        day = _next_day(day)
