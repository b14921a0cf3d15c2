"""Report pages computed from the read model are cached per refresh generation (reports/views.py):
a second view reads no rollups, a refresh shows new numbers, and a cached page never crosses
viewers' scopes, languages or filters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.models import RollupState
from reports.rollups import rollup_refresh
from tests.factories import UserFactory
from tests.reports.conftest import DAY

pytestmark = pytest.mark.django_db

QUERY = f"?preset=custom&date_from={DAY}&date_to={DAY}&grain=day"


def read_model_queries(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    touched = [
        q["sql"]
        for q in ctx.captured_queries
        if "reports_dailyrollup" in q["sql"] or "reports_ticketfact" in q["sql"]
    ]
    return len(touched), response


def test_second_view_reads_no_rollups_and_a_refresh_recomputes(report_desk, client):
    client.force_login(report_desk.desk.admin)
    for page in ("", "sla/", "times/", "backlog/", "resolution/", "satisfaction/", "systems/"):
        url = f"/workspace/reports/{page}{QUERY}"
        first, response = read_model_queries(client, url)
        assert first > 0, page
        again, cached = read_model_queries(client, url)
        assert again == 0, page
        # The same tables (the rest of the page, e.g. its CSP nonce, is per request).
        assert [t.rows for t in cached.context["tables"]] == [
            t.rows for t in response.context["tables"]
        ], page
    generation = RollupState.objects.get().generation
    rollup_refresh()
    assert RollupState.objects.get().generation != generation
    after, _response = read_model_queries(client, f"/workspace/reports/sla/{QUERY}")
    assert after > 0


def test_cache_keeps_scopes_filters_and_languages_apart(report_desk, client):
    url = f"/workspace/reports/{QUERY}"
    client.force_login(report_desk.desk.admin)
    assert client.get(url).context["headline"]["created"] == 4
    other = UserFactory(username="manager-b", roles=["manager"])
    other.managed_units.add(report_desk.desk.unit_b)
    client.force_login(other)
    assert client.get(url).context["headline"]["created"] == 0
    client.force_login(report_desk.desk.admin)
    # Another period: not the cached numbers of the first.
    before = f"/workspace/reports/?preset=custom&date_from={DAY.replace(year=2025)}"
    assert (
        client.get(f"{before}&date_to={DAY.replace(year=2025)}").context["headline"]["created"] == 0
    )
    # Another language: labels are rendered in it, not served from the English page.
    english = client.get(f"/workspace/reports/sla/{QUERY}", HTTP_ACCEPT_LANGUAGE="en")
    assert "Per priority" in english.content.decode()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(f"/workspace/reports/sla/{QUERY}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "按优先级" in chinese.content.decode()
    assert "Per priority" not in chinese.content.decode()


def test_live_page_is_never_cached(report_desk, client):
    client.force_login(report_desk.desk.admin)
    url = f"/workspace/reports/risk/{QUERY}"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    assert any("sla_slatimer" in q["sql"] for q in ctx.captured_queries)
