"""Official holiday schedules: coverage warnings and the administrator's yearly import.

Business-time clocks (P3/P4) skip China's statutory holidays and work the 调休 make-up days.
Those dates are announced by the State Council each year (usually in November for the next
year); the `chinese-calendar` package ships them up to the year of its release. A year it does
not know silently counts as plain Monday-to-Friday, so a P3 opened on 31 December would count
New Year's Day as a working day.

This module closes that gap:

- an administrator imports the official schedule of a year — an iCalendar file (.ics) or a
  simple list of dates — as `OfficialScheduleDate` rows; an imported year replaces the
  package's data for that year (`sla.business_time.set_official_schedules`);
- every web and worker process loads the imported schedules from the database and re-reads
  them at most every `REFRESH_SECONDS` (on request start and before each Celery task);
- `coverage_gaps()` says which of the next `HORIZON_DAYS` days fall in a year nobody knows the
  holidays of: a Django system check (`sla.W001`), the admin's calendar pages and the manager
  dashboard warn about them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.signals import request_started
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .business_time import set_official_schedules, statutory_years_covered
from .choices import CalendarDateKind
from .models import BusinessCalendarConfig, OfficialScheduleDate

logger = logging.getLogger(__name__)

#: How far ahead the holiday data must reach before the desk warns.
HORIZON_DAYS = 60
#: How often each process re-reads the imported schedules (settings.SLA
#: ["HOLIDAY_REFRESH_SECONDS"]; None: only when this process imports, as in the test suite,
#: where an extra query inside a request would upset the query-count budgets).
REFRESH_SECONDS = 30


def refresh_seconds() -> float | None:
    return getattr(settings, "SLA", {}).get("HOLIDAY_REFRESH_SECONDS", REFRESH_SECONDS)


#: An imported schedule must fall in this range (a typo like 2207 is refused).
YEAR_RANGE = range(2000, 2101)


# --- parsing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleEntry:
    """One date of an official schedule as read from a file."""

    date: date
    kind: str  # CalendarDateKind
    name: str = ""


class ScheduleError(ValueError):
    """A schedule file that cannot be read; the message names the line or event."""


# Words that mark a make-up working day in official and common calendar feeds: 班 / 补班 /
# 上班 (Chinese feeds title these days "春节补班", "国庆节 班"), and the English spellings.
WORKDAY_WORDS = re.compile(r"班|make-?up|working day|workday|work day", re.IGNORECASE)
KIND_WORDS = {
    "holiday": CalendarDateKind.HOLIDAY,
    "休": CalendarDateKind.HOLIDAY,
    "假": CalendarDateKind.HOLIDAY,
    "workday": CalendarDateKind.WORKDAY,
    "makeup": CalendarDateKind.WORKDAY,
    "make-up": CalendarDateKind.WORKDAY,
    "班": CalendarDateKind.WORKDAY,
    "补班": CalendarDateKind.WORKDAY,
}
LIST_LINE = re.compile(
    r"^(?P<start>\d{4}-\d{2}-\d{2})(?:\s*(?:\.\.|~|至|to)\s*(?P<end>\d{4}-\d{2}-\d{2}))?"
    r"\s+(?P<kind>\S+)(?:\s+(?P<name>.*))?$"
)
MAX_SPAN_DAYS = 31  # one holiday period; longer means a typo


def _days(start: date, end: date) -> list[date]:
    if end < start:
        raise ScheduleError(_("%(end)s is before %(start)s.") % {"start": start, "end": end})
    if (end - start).days >= MAX_SPAN_DAYS:
        raise ScheduleError(
            _("%(start)s to %(end)s is longer than %(days)d days.")
            % {"start": start, "end": end, "days": MAX_SPAN_DAYS}
        )
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def parse_date_list(text: str) -> list[ScheduleEntry]:
    """A simple list, one date or range per line, then its kind, then an optional name::

        # 2027 (State Council notice of November 2026)
        2027-01-01 holiday 元旦
        2027-02-06..2027-02-12 holiday 春节
        2027-02-14 workday 春节调休

    Kinds: `holiday` / `休` / `假`, `workday` / `makeup` / `班` / `补班`. Blank lines and lines
    starting with `#` are skipped.
    """
    entries: list[ScheduleEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LIST_LINE.match(line)
        if not match:
            raise ScheduleError(
                _("Line %(number)d: expected 'YYYY-MM-DD kind [name]', got %(line)r.")
                % {"number": number, "line": line[:80]}
            )
        kind = KIND_WORDS.get(match["kind"].lower())
        if kind is None:
            raise ScheduleError(
                _("Line %(number)d: unknown kind %(kind)r (holiday or workday).")
                % {"number": number, "kind": match["kind"][:20]}
            )
        try:
            start = date.fromisoformat(match["start"])
            end = date.fromisoformat(match["end"]) if match["end"] else start
            days = _days(start, end)
        except ValueError as exc:
            raise ScheduleError(
                _("Line %(number)d: %(error)s") % {"number": number, "error": exc}
            ) from exc
        name = (match["name"] or "").strip()[:120]
        entries.extend(ScheduleEntry(day, kind, name) for day in days)
    return entries


def parse_icalendar(data: bytes) -> list[ScheduleEntry]:
    """All-day events of an iCalendar file: each day from DTSTART up to DTEND (exclusive).

    An event whose summary says it is worked (班, 补班, 上班, make-up, working day) is a
    make-up working day; every other event is a holiday.
    """
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise ScheduleError(_("Not an iCalendar file: %(error)s") % {"error": exc}) from exc
    entries: list[ScheduleEntry] = []
    for event in calendar.walk("VEVENT"):
        summary = str(event.get("SUMMARY", "")).strip()
        start = event.get("DTSTART")
        if start is None:
            raise ScheduleError(_("Event %(name)r has no start date.") % {"name": summary})
        first = start.dt.date() if isinstance(start.dt, datetime) else start.dt
        end = event.get("DTEND")
        if end is not None:
            last_exclusive = end.dt.date() if isinstance(end.dt, datetime) else end.dt
            last = max(first, last_exclusive - timedelta(days=1))
        else:
            last = first
        kind = (
            CalendarDateKind.WORKDAY if WORKDAY_WORDS.search(summary) else CalendarDateKind.HOLIDAY
        )
        entries.extend(ScheduleEntry(day, kind, summary[:120]) for day in _days(first, last))
    return entries


def parse_schedule(data: bytes, filename: str = "") -> list[ScheduleEntry]:
    """An .ics file (by name or content) or a plain date list (UTF-8)."""
    if filename.lower().endswith((".ics", ".ical")) or data.lstrip().startswith(b"BEGIN:VCALENDAR"):
        return parse_icalendar(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScheduleError(_("The list must be UTF-8 text.")) from exc
    return parse_date_list(text)


# --- import -----------------------------------------------------------------------------------


def official_schedule_import(
    *, year: int, entries: list[ScheduleEntry], actor=None, source: str = ""
) -> int:
    """Replace the official schedule of `year` with `entries`; return how many dates it has.

    Guards: the year is in YEAR_RANGE, every entry is in that year, no date is listed both as a
    holiday and as a working day, and there is at least one holiday. Then, in one transaction,
    the year's old rows are deleted and the new ones inserted. Every calendar configuration is
    marked changed (its cached arithmetic is rebuilt by each process) and this process reloads
    the schedules at once; the others within REFRESH_SECONDS.
    """
    if year not in YEAR_RANGE:
        raise ValidationError({"year": _("Enter a year between 2000 and 2100.")})
    outside = sorted({e.date for e in entries if e.date.year != year})
    if outside:
        raise ValidationError(
            {
                "file": _("Dates outside %(year)d: %(dates)s.")
                % {"year": year, "dates": ", ".join(d.isoformat() for d in outside[:5])}
            }
        )
    kinds: dict[date, ScheduleEntry] = {}
    for entry in entries:
        previous = kinds.get(entry.date)
        if previous is not None and previous.kind != entry.kind:
            raise ValidationError(
                {
                    "file": _("%(date)s is listed both as a holiday and as a working day.")
                    % {"date": entry.date.isoformat()}
                }
            )
        kinds.setdefault(entry.date, entry)
    if not any(e.kind == CalendarDateKind.HOLIDAY for e in kinds.values()):
        raise ValidationError(
            {"file": _("The schedule has no holiday in %(year)d.") % {"year": year}}
        )

    now = timezone.now()
    with transaction.atomic():
        OfficialScheduleDate.objects.filter(year=year).delete()
        OfficialScheduleDate.objects.bulk_create(
            OfficialScheduleDate(
                date=entry.date,
                year=year,
                kind=entry.kind,
                name=entry.name,
                source=source[:200],
                imported_by=actor,
                imported_at=now,
            )
            for entry in sorted(kinds.values(), key=lambda e: e.date)
        )
        # Each process rebuilds its cached calendars when their row's updated_at changes.
        BusinessCalendarConfig.objects.update(updated_at=now)
        transaction.on_commit(lambda: refresh_official_schedules(force=True))
    logger.info("official holiday schedule of %d imported: %d dates by %s", year, len(kinds), actor)
    return len(kinds)


# --- loading into every process ---------------------------------------------------------------

_refresh_lock = threading.Lock()
_last_refresh = float("-inf")


def load_official_schedules() -> dict[int, tuple[set[date], set[date]]]:
    years: dict[int, tuple[set[date], set[date]]] = {}
    for day, year, kind in OfficialScheduleDate.objects.values_list("date", "year", "kind"):
        holidays, workdays = years.setdefault(year, (set(), set()))
        (workdays if kind == CalendarDateKind.WORKDAY else holidays).add(day)
    return years


def refresh_official_schedules(*, force: bool = False) -> None:
    """Load the imported schedules into sla.business_time, at most every REFRESH_SECONDS.

    A database error keeps the schedules loaded before: the desk keeps counting with what it
    knew rather than failing every request.
    """
    global _last_refresh
    every = refresh_seconds()
    if not force and (every is None or time.monotonic() - _last_refresh < every):
        return
    with _refresh_lock:
        now = time.monotonic()
        if not force and now - _last_refresh < every:
            return
        _last_refresh = now
        try:
            years = load_official_schedules()
        except DatabaseError:
            logger.warning("official holiday schedules not reloaded: database unavailable")
            return
        if set_official_schedules(years):
            logger.info("official holiday schedules loaded: %s", sorted(years) or "none")


def _refresh_quietly(force: bool = False, **kwargs) -> None:
    # A signal receiver must never fail the request or task it runs before (no database
    # configured, database access not allowed in that context): the old schedules stay.
    try:
        refresh_official_schedules(force=force)
    except Exception:
        logger.debug("official schedules not refreshed", exc_info=True)


def connect_refresh() -> None:
    """Keep every web and worker process's schedules fresh (called from SlaConfig.ready)."""
    from celery.signals import task_prerun

    request_started.connect(_refresh_quietly, dispatch_uid="sla.holidays.refresh")
    task_prerun.connect(_refresh_quietly, dispatch_uid="sla.holidays.refresh")


# --- coverage ---------------------------------------------------------------------------------


def coverage_gaps(today: date | None = None, horizon_days: int = HORIZON_DAYS) -> list[int]:
    """Years of the next `horizon_days` days whose statutory holidays nobody knows."""
    today = today or timezone.localdate()
    last = today + timedelta(days=horizon_days)
    covered = statutory_years_covered()
    return [year for year in range(today.year, last.year + 1) if year not in covered]


def coverage_warning(today: date | None = None) -> str:
    """The warning to show where it matters, or "" when the next days are covered."""
    gaps = coverage_gaps(today)
    if not gaps:
        return ""
    years = ", ".join(str(y) for y in gaps)
    return _(
        "Holiday data is missing for %(years)s: business-time SLA clocks will count that "
        "year's statutory holidays as working days and ignore its make-up days. An "
        "administrator must import the official schedule (Admin → Service levels → Official "
        "holiday schedule → Import)."
    ) % {"years": years}


@checks.register("sla")
def check_holiday_coverage(app_configs=None, databases=None, **kwargs):
    """sla.W001: the next HORIZON_DAYS days reach a year without holiday data.

    Imported schedules are read only when the check may use the database (`migrate`, `check
    --database default`); otherwise the package's years and what this process loaded count.
    """
    if databases and "default" in databases:
        _refresh_quietly(force=True)
    gaps = coverage_gaps()
    if not gaps:
        return []
    return [
        checks.Warning(
            coverage_warning(),
            hint=_(
                "See docs/operations.md, 'Yearly holiday import'. Run 'manage.py check "
                "--database default' to count the schedules imported so far."
            ),
            id="sla.W001",
        )
    ]
