"""Every report number of the fixture desk (tests/reports/conftest.py), worked out by hand."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from reports import pages
from reports.models import TicketFact
from reports.selectors import ReportFilters
from tests.reports.conftest import DAY

pytestmark = pytest.mark.django_db

QUERY = f"?preset=custom&date_from={DAY}&date_to={DAY}&grain=day"


def filters() -> ReportFilters:
    return ReportFilters(date_from=DAY, date_to=DAY, grain="day")


def rows(tables, slug):
    return next(t for t in tables if t.slug == slug).rows


def test_facts(report_desk):
    d = report_desk
    fact = {f.ticket_id: f for f in TicketFact.objects.all()}
    assert fact[d.t1.pk].first_response_seconds == 600
    assert fact[d.t2.pk].first_response_seconds == 3600
    assert fact[d.t3.pk].first_response_seconds == 1200
    assert fact[d.t4.pk].first_response_seconds is None
    assert [fact[t.pk].resolution_seconds for t in (d.t1, d.t2, d.t3, d.t4)] == [
        2400,
        10800,
        5400,
        None,
    ]
    assert [fact[t.pk].first_response for t in (d.t1, d.t2, d.t3, d.t4)] == [1, 2, 1, 2]
    assert [fact[t.pk].resolution for t in (d.t1, d.t2, d.t3, d.t4)] == [1, 2, 1, 2]
    assert [fact[t.pk].first_contact for t in (d.t1, d.t2, d.t3)] == [True, False, False]
    assert [fact[t.pk].front_resolved for t in (d.t1, d.t2, d.t3)] == [True, False, True]
    assert [fact[t.pk].escalated_from_front for t in (d.t1, d.t2, d.t3)] == [False, True, False]
    assert [fact[t.pk].rating for t in (d.t1, d.t2, d.t3)] == [5, 2, None]
    assert fact[d.t4.pk].is_open and not fact[d.t1.pk].is_open


def test_times_mean_median_p90(report_desk):
    admin = report_desk.desk.admin
    tables = pages.page_times(admin, filters())
    # First response: 600, 3600, 1200 s → mean 1800 s = 0.5 h, median 1200 s = 0.33 h,
    # p90 = 1200 + 0.8 × (3600 − 1200) = 3120 s = 0.87 h.
    # Resolution: 2400, 10800, 5400 s → mean 6200 s = 1.72 h, median 5400 s = 1.5 h,
    # p90 = 5400 + 0.8 × (10800 − 5400) = 9720 s = 2.7 h.
    assert rows(tables, "times-all") == [["All", 3, 0.5, 0.33, 0.87, 3, 1.72, 1.5, 2.7]]
    assert rows(tables, "times-priority") == [["P1", 3, 0.5, 0.33, 0.87, 3, 1.72, 1.5, 2.7]]


def test_sla_compliance(report_desk):
    admin = report_desk.desk.admin
    tables = pages.page_sla(admin, filters())
    row = rows(tables, "sla-priority")[0]
    # First response met by T1 and T3, breached by T2 and T4; resolution the same.
    assert row[:7] == ["P1", 2, 2, 50.0, 2, 2, 50.0]


def test_resolution_rates_and_escalation(report_desk):
    admin = report_desk.desk.admin
    tables = pages.page_resolution(admin, filters())
    # 3 resolved: first contact T1 (1/3), tier 1 T1 and T3 (2/3), reopened T3 (1/3).
    assert rows(tables, "rates-all") == [["All", 3, 33.3, 66.7, 33.3]]
    # 4 created, T2 escalated out of the front office.
    assert rows(tables, "escalation-tier")[0][1:] == [4, 1, 25.0]


def test_satisfaction(report_desk):
    admin = report_desk.desk.admin
    tables = pages.page_satisfaction(admin, filters())
    assert rows(tables, "satisfaction-trend") == [[DAY.isoformat(), 2, 3.5]]
    assert rows(tables, "satisfaction-scores") == [[1, 0], [2, 1], [3, 0], [4, 0], [5, 1]]


def test_backlog_and_headline(report_desk):
    admin = report_desk.desk.admin
    tables = pages.page_backlog(admin, filters())
    assert [r[0] for r in rows(tables, "backlog-oldest")] == [report_desk.t4.number]
    assert rows(tables, "backlog-flow") == [[DAY.isoformat(), 4, 3, 2]]
    numbers = pages.headline(admin, filters())
    assert numbers["created"] == 4 and numbers["resolved"] == 3 and numbers["open"] == 1
    assert numbers["fr_percent"] == 50.0 and numbers["res_percent"] == 50.0
    assert numbers["mttr_hours"] == 1.72 and numbers["satisfaction"] == 3.5


def test_manager_sees_only_their_units(report_desk):
    # The fixture manager manages unit A, the requester's unit: everything. A manager of unit B
    # sees nothing.
    from tests.factories import UserFactory

    manager = report_desk.desk.manager
    assert pages.headline(manager, filters())["created"] == 4
    other = UserFactory(username="manager-b", roles=["manager"])
    other.managed_units.add(report_desk.desk.unit_b)
    assert pages.headline(other, filters())["created"] == 0


def test_pages_render_with_query_budgets(report_desk, client, django_assert_max_num_queries):
    client.force_login(report_desk.desk.admin)
    for page, budget in [
        ("", 20),
        ("sla/", 22),
        ("times/", 22),
        ("backlog/", 16),
        ("risk/", 20),
        ("resolution/", 16),
        ("satisfaction/", 18),
        ("systems/", 18),
        ("problems/", 14),
        ("spikes/", 14),
    ]:
        with django_assert_max_num_queries(budget):
            response = client.get(f"/workspace/reports/{page}{QUERY}")
        assert response.status_code == 200, page
        assert b"Data as of" in response.content


def test_exports_have_the_page_numbers(report_desk, client):
    client.force_login(report_desk.desk.admin)
    response = client.get(f"/workspace/reports/times/{QUERY}&export=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["times-all"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[1] == ["All", 3, 0.5, 0.33, 0.87, 3, 1.72, 1.5, 2.7]
    assert set(book.sheetnames) == {
        "times-all",
        "times-priority",
        "times-team",
        "times-type",
        "times-trend",
    }
    response = client.get(f"/workspace/reports/sla/{QUERY}&export=csv&table=sla-priority")
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("P1,2,2,50.0,2,2,50.0,")


def test_bad_filters_are_form_errors_not_500(report_desk, client):
    client.force_login(report_desk.desk.admin)
    response = client.get(
        "/workspace/reports/sla/?date_from=2026-03-05&date_to=2026-03-01&preset=custom"
    )
    assert response.status_code == 400
    assert b"before its start" in response.content
    assert client.get("/workspace/reports/nope/").status_code == 404
    assert client.get("/workspace/reports/sla/?team=abc").status_code == 400


def test_requester_may_not_read_reports(report_desk, client):
    client.force_login(report_desk.desk.requester)
    assert client.get("/workspace/reports/").status_code == 403


def test_numbers_drill_down_to_the_ticket_list(report_desk):
    admin = report_desk.desk.admin
    table = next(t for t in pages.page_sla(admin, filters()) if t.slug == "sla-priority")
    assert table.links == ["/workspace/queue/all/?priority=P1"]
    team = next(t for t in pages.page_sla(admin, filters()) if t.slug == "sla-team_id")
    front = report_desk.desk.front.pk
    assert f"/workspace/queue/all/?team={front}" in team.links
