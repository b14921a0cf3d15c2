"""Repeated problems (near-duplicate groups) and the weekly summary mail, each run twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from notifications.models import Notification
from reports.models import RepeatedProblem
from reports.problems import repeated_problems_refresh
from reports.tasks import weekly_summary
from tests.reports.conftest import DAY, at

pytestmark = pytest.mark.django_db


def test_repeated_problems_group_near_duplicates_in_both_languages(desk, open_ticket):
    titles = [
        (at(9, 0) - timedelta(days=1), "VPN cannot connect from home"),
        (at(9, 5) - timedelta(days=2), "VPN cannot connect from home office"),
        (at(9, 10) - timedelta(days=3), "vpn cannot connect from home!"),
        (at(9, 15) - timedelta(days=1), "打印机卡纸无法打印"),
        (at(9, 20) - timedelta(days=2), "打印机卡纸，无法打印"),
        (at(9, 25) - timedelta(days=4), "Outlook asks for the password"),
        # The previous 7-day period: one more VPN ticket.
        (at(9, 0) - timedelta(days=9), "VPN cannot connect from home"),
    ]
    for when, title in titles:
        open_ticket(at=when, priority="P3", title=title)
    with time_machine.travel(at(18, 0), tick=False):
        assert repeated_problems_refresh(end=DAY) == {7: 2, 30: 2}
        assert repeated_problems_refresh(end=DAY) == {7: 2, 30: 2}  # twice: the same rows
    week = list(
        RepeatedProblem.objects.filter(period_days=7).values_list(
            "rank", "title", "count", "previous_count"
        )
    )
    assert week == [
        (1, "VPN cannot connect from home", 3, 1),
        (2, "打印机卡纸无法打印", 2, 0),
    ]
    assert RepeatedProblem.objects.filter(period_days=30).values_list("count", flat=True)[0] == 4


def test_weekly_summary_once_per_manager_and_week(report_desk, django_capture_on_commit_callbacks):
    # The week up to Sunday 8 March 2026 holds the fixture desk's Monday.
    with (
        time_machine.travel(at(9, 0) + timedelta(days=7), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = weekly_summary()
        second = weekly_summary()
    assert first > 0 and second == 0
    inbox = Notification.objects.get(
        dedupe_key__startswith="reports.weekly:",
        channel="inbox",
        recipient=report_desk.desk.manager,
    )
    assert "2026-03-02" in inbox.subject and "2026-03-08" in inbox.subject
    assert "Created: 4" in inbox.body and "Resolved in time: 50.0 %" in inbox.body
    assert "/workspace/reports/" in inbox.url
