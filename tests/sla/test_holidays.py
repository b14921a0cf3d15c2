"""Holiday data coverage and the administrator's official schedule import (issue 17, item 14).

chinese-calendar 1.11.0 covers 2004-2026: before the fix a P3 opened on 2026-12-31 counted
1 January 2027 as a working day, silently. The 2027 dates below are test data in the shape
of the State Council's notice, not the real 2027 schedule.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from sla import holidays
from sla.business_time import (
    BusinessCalendar,
    add_business_time,
    china_statutory_years,
    set_official_schedules,
)
from sla.choices import CalendarDateKind
from sla.holidays import (
    OfficialScheduleDate,
    ScheduleEntry,
    ScheduleError,
    check_holiday_coverage,
    coverage_gaps,
    official_schedule_import,
    parse_date_list,
    parse_icalendar,
    parse_schedule,
)
from sla.models import BusinessCalendarConfig
from tests.sla.conftest import sh

DECEMBER = sh(2026, 12, 6, 10, 0)

SCHEDULE_2027_LIST = """\
# 2027 (test data)
2027-01-01 holiday 元旦
2027-02-06..2027-02-13 holiday 春节
2027-02-20 workday 春节调休
"""

SCHEDULE_2027_ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//holidays//CN
BEGIN:VEVENT
UID:newyear-2027@test
DTSTART;VALUE=DATE:20270101
DTEND;VALUE=DATE:20270102
SUMMARY:\xe5\x85\x83\xe6\x97\xa6
END:VEVENT
BEGIN:VEVENT
UID:spring-2027@test
DTSTART;VALUE=DATE:20270206
DTEND;VALUE=DATE:20270214
SUMMARY:\xe6\x98\xa5\xe8\x8a\x82
END:VEVENT
BEGIN:VEVENT
UID:spring-makeup-2027@test
DTSTART;VALUE=DATE:20270220
DTEND;VALUE=DATE:20270221
SUMMARY:\xe6\x98\xa5\xe8\x8a\x82\xe8\xa1\xa5\xe7\x8f\xad
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(autouse=True)
def _no_schedules_left_behind():
    """Imported schedules live in each process's memory: start and end every test without."""
    set_official_schedules({})
    holidays._last_refresh = float("-inf")
    yield
    set_official_schedules({})
    holidays._last_refresh = float("-inf")


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what an import does after its commit (reload this process's schedules)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def import_2027(on_commit):
    def run(actor=None) -> int:
        return on_commit(
            official_schedule_import,
            year=2027,
            entries=parse_date_list(SCHEDULE_2027_LIST),
            actor=actor,
            source="test",
        )

    return run


# --- the arithmetic ---------------------------------------------------------------------------


def test_2027_is_not_in_the_package():
    assert 2027 not in china_statutory_years()


def test_an_imported_holiday_stops_the_business_clock(db, import_2027):
    calendar = BusinessCalendar.standard_china()
    start = sh(2026, 12, 31, 17, 0)
    # Without 2027's data, New Year's Day (a Friday) counted as a working day.
    assert add_business_time(calendar, start, timedelta(hours=2)) == sh(2027, 1, 1, 10, 0)
    import_2027()
    # The same calendar instance drops the days it computed with the old data.
    assert add_business_time(calendar, start, timedelta(hours=2)) == sh(2027, 1, 4, 10, 0)


def test_an_imported_make_up_day_is_worked(db, import_2027):
    calendar = BusinessCalendar.standard_china()
    saturday = sh(2027, 2, 20, 9, 0)
    assert calendar.hours_on(date(2027, 2, 20)) == ()
    import_2027()
    assert calendar.hours_on(date(2027, 2, 20)) == calendar.hours_on(date(2027, 2, 22))
    assert add_business_time(calendar, saturday, timedelta(hours=1)) == sh(2027, 2, 20, 10, 0)
    assert calendar.hours_on(date(2027, 2, 8)) == ()  # a Monday inside the spring festival


def test_an_imported_year_takes_precedence_over_the_package(db, on_commit):
    calendar = BusinessCalendar.standard_china()
    assert calendar.hours_on(date(2026, 10, 1)) == ()  # National Day, from the package
    on_commit(
        official_schedule_import,
        year=2026,
        entries=[ScheduleEntry(date(2026, 10, 2), CalendarDateKind.HOLIDAY, "test")],
    )
    assert calendar.hours_on(date(2026, 10, 1)) != ()  # the import does not list it
    assert calendar.hours_on(date(2026, 10, 2)) == ()


def test_calendars_without_statutory_holidays_ignore_imports(db, import_2027):
    calendar = BusinessCalendar(
        weekly_hours=BusinessCalendar.standard_china().weekly_hours, use_china_statutory=False
    )
    import_2027()
    assert calendar.hours_on(date(2027, 1, 1)) != ()


def test_an_import_marks_every_calendar_changed(db, import_2027):
    config = BusinessCalendarConfig.objects.filter(always_open=False).first()
    before = config.updated_at
    import_2027()
    config.refresh_from_db()
    assert config.updated_at > before
    assert config.as_calendar().hours_on(date(2027, 1, 1)) == ()


def test_another_process_picks_the_import_up_from_the_database(db, import_2027):
    import_2027()
    set_official_schedules({})  # as a worker that has not seen it yet
    holidays.refresh_official_schedules(force=True)
    assert BusinessCalendar.standard_china().hours_on(date(2027, 1, 1)) == ()


# --- the import -------------------------------------------------------------------------------


def test_a_new_import_replaces_the_year(db, import_2027):
    assert import_2027() == 10
    official_schedule_import(
        year=2027, entries=[ScheduleEntry(date(2027, 5, 3), CalendarDateKind.HOLIDAY, "劳动节")]
    )
    assert list(OfficialScheduleDate.objects.values_list("date", "year", "kind", "name")) == [
        (date(2027, 5, 3), 2027, "holiday", "劳动节")
    ]


@pytest.mark.parametrize(
    "entries, field, message",
    [
        (
            [ScheduleEntry(date(2028, 1, 1), "holiday")],
            "file",
            "Dates outside 2027: 2028-01-01.",
        ),
        (
            [
                ScheduleEntry(date(2027, 1, 1), "holiday"),
                ScheduleEntry(date(2027, 1, 1), "workday"),
            ],
            "file",
            "2027-01-01 is listed both as a holiday and as a working day.",
        ),
        (
            [ScheduleEntry(date(2027, 2, 20), "workday")],
            "file",
            "The schedule has no holiday in 2027.",
        ),
    ],
)
def test_bad_imports_are_refused(db, entries, field, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        official_schedule_import(year=2027, entries=entries)
    assert raised.value.message_dict == {field: [message]}
    assert not OfficialScheduleDate.objects.exists()


def test_the_ics_and_the_list_give_the_same_dates():
    from_ics = parse_icalendar(SCHEDULE_2027_ICS)
    from_list = parse_date_list(SCHEDULE_2027_LIST)
    assert [(e.date, e.kind) for e in from_ics] == [(e.date, e.kind) for e in from_list]
    assert len(from_ics) == 10
    assert from_ics[-1] == ScheduleEntry(date(2027, 2, 20), "workday", "春节补班")
    assert parse_schedule(SCHEDULE_2027_ICS, "cn.ics") == from_ics
    assert parse_schedule(SCHEDULE_2027_LIST.encode(), "cn.txt") == from_list


@pytest.mark.parametrize(
    "text, message",
    [
        ("2027-13-01 holiday", "Line 1: month must be in 1..12"),
        ("2027-01-01 vacation", "Line 1: unknown kind 'vacation' (holiday or workday)."),
        ("January 1st", "Line 1: expected 'YYYY-MM-DD kind [name]', got 'January 1st'."),
        ("2027-02-10..2027-02-01 休", "Line 1: 2027-02-01 is before 2027-02-10."),
        (
            "# x\n2027-01-01..2027-03-01 休",
            "Line 2: 2027-01-01 to 2027-03-01 is longer than 31 days.",
        ),
    ],
)
def test_list_errors_name_the_line(text, message):
    with pytest.raises(ScheduleError) as raised:
        parse_date_list(text)
    assert str(raised.value).startswith(message)


def test_a_broken_ics_is_a_schedule_error():
    with pytest.raises(ScheduleError):
        parse_schedule(b"BEGIN:VCALENDAR\nnonsense", "x.ics")


def test_the_management_command(db, tmp_path, capsys):
    path = tmp_path / "cn-2027.ics"
    path.write_bytes(SCHEDULE_2027_ICS)
    call_command("import_holidays", str(path), "--year", "2027")
    assert "2027: 10 dates imported from cn-2027.ics." in capsys.readouterr().out
    assert OfficialScheduleDate.objects.filter(year=2027).count() == 10
    with pytest.raises(CommandError, match="Dates outside 2028"):
        call_command("import_holidays", str(path), "--year", "2028")


# --- the warnings -----------------------------------------------------------------------------


def test_coverage_gaps():
    assert coverage_gaps(date(2026, 12, 6)) == [2027]
    assert coverage_gaps(date(2026, 9, 1)) == []  # 60 days ahead is still 2026
    assert coverage_gaps(date(2026, 11, 2)) == [2027]  # 2027-01-01 is 60 days away


def test_the_system_check_warns_until_the_year_is_imported(db, import_2027):
    with time_machine.travel(DECEMBER, tick=False):
        warnings = check_holiday_coverage(databases=["default"])
        assert [w.id for w in warnings] == ["sla.W001"]
        assert "Holiday data is missing for 2027" in warnings[0].msg
        import_2027()
        assert check_holiday_coverage(databases=["default"]) == []


def test_the_admin_calendar_page_warns_and_the_import_works(
    desk, client, django_capture_on_commit_callbacks
):
    desk.admin.is_superuser = True
    desk.admin.save()
    client.force_login(desk.admin)
    config = BusinessCalendarConfig.objects.first()
    with time_machine.travel(DECEMBER, tick=True):
        page = client.get(f"/admin/sla/businesscalendarconfig/{config.pk}/change/")
        assert "Holiday data is missing for 2027" in page.content.decode()
        listing = client.get("/admin/sla/businesscalendarconfig/")
        assert "Holiday data is missing for 2027" in listing.content.decode()

        form = client.get("/admin/sla/officialscheduledate/import/")
        assert form.status_code == 200
        bad = client.post(
            "/admin/sla/officialscheduledate/import/",
            {"year": "2027", "file": SimpleUploadedFile("x.txt", b"2027-01-01 vacation")},
        )
        assert bad.status_code == 400
        assert "unknown kind" in bad.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/admin/sla/officialscheduledate/import/",
                {"year": "2027", "file": SimpleUploadedFile("cn-2027.ics", SCHEDULE_2027_ICS)},
            )
        assert response.status_code == 302
        assert OfficialScheduleDate.objects.filter(year=2027, imported_by=desk.admin).count() == 10
        page = client.get(f"/admin/sla/businesscalendarconfig/{config.pk}/change/")
        assert "Holiday data is missing" not in page.content.decode()


def test_only_administrators_import(desk, client):
    client.force_login(desk.manager)
    response = client.get("/admin/sla/officialscheduledate/import/")
    assert response.status_code in (302, 403)


def test_the_manager_dashboard_warns(desk, client, import_2027):
    client.force_login(desk.manager)
    with time_machine.travel(DECEMBER, tick=True):
        page = client.get("/workspace/dashboard/").content.decode()
        assert 'data-testid="holiday-coverage"' in page
        assert "Holiday data is missing for 2027" in page
        import_2027()
        holidays.refresh_official_schedules(force=True)
        page = client.get("/workspace/dashboard/").content.decode()
        assert 'data-testid="holiday-coverage"' not in page


def test_every_process_reloads_the_schedules_on_its_next_request(
    desk, client, settings, import_2027
):
    import_2027()
    set_official_schedules({})  # a web process that has not seen the import
    settings.SLA = {**settings.SLA, "HOLIDAY_REFRESH_SECONDS": 0}
    client.force_login(desk.requester)
    client.get("/portal/")
    assert BusinessCalendar.standard_china().hours_on(date(2027, 1, 1)) == ()
