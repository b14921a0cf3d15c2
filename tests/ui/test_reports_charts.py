"""The report charts render in a real headless Chromium: a <canvas> drawn by Chart.js with the
page's numbers, in English and in Chinese."""

from __future__ import annotations

import pytest

# The report desk of tests/reports (its fixtures, imported here; the browser fixtures come from
# tests/ui/conftest.py, so the session has one browser).
from tests.reports.conftest import DAY, eager_celery, open_ticket, report_desk  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUERY = f"?preset=custom&date_from={DAY}&date_to={DAY}&grain=day"


def _chart_data(page) -> list[list]:
    """Every chart's dataset values as Chart.js holds them (drawn, not only in the JSON)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.report-chart')].every(b => b.chart)"
    )
    return page.eval_on_selector_all(
        ".report-chart",
        "boxes => boxes.map(b => b.chart.data.datasets.map(d => d.data))",
    )


def test_charts_render_with_data_in_english_and_chinese(report_desk, open_as, live_server):  # noqa: F811
    page = open_as(report_desk.desk.admin)
    page.goto(f"{live_server.url}/workspace/reports/times/{QUERY}")
    assert page.locator(".report-chart canvas").count() == 5
    data = _chart_data(page)
    # "All tickets": resolution median 1.5 h and p90 2.7 h (tests/reports/test_metrics_by_hand).
    assert data[0] == [[1.5], [2.7]]
    width = page.eval_on_selector(".report-chart canvas", "c => c.width")
    assert width > 0
    assert "Response and resolution times" in page.inner_text("h1")

    with page.expect_navigation():
        page.select_option("#language-select", "zh-hans")
    page.goto(f"{live_server.url}/workspace/reports/sla/{QUERY}")
    text = page.inner_text("body")
    for phrase in ("报表", "SLA 达标率", "按优先级", "首次响应"):
        assert phrase in text
    for english in ("Per priority", "First response: met"):
        assert english not in text
    data = _chart_data(page)
    # Per priority: P1 first response 50 %, resolution 50 %.
    assert data[0][:2] == [[50.0], [50.0]]
