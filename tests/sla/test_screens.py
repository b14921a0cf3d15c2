"""SLA on screen: badges, the at-risk and breached queues, the manager dashboard (its numbers
and lists equal a direct recomputation; the page costs a fixed number of queries)."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse

from sla import tasks
from sla.choices import ACTIVE_TIMER_STATES, ESCALATING_METRICS, BadgeState, Metric, TimerState
from sla.models import SlaComplianceDay, SlaDecision, SlaTimer
from sla.selectors import filter_queue, sla_compliance, timer_badges
from sla.services import sla_decisions_rebuild, sla_decisions_refresh, sla_summary_refresh
from tests.sla.conftest import sh
from tests.sla.test_summary import _recount, _summary
from tickets import services as tickets
from tickets.choices import OPEN_STATUSES, PendingReason, Priority, Status
from tickets.models import Ticket
from tickets.selectors import visible_tickets

T0 = sh(2025, 10, 1, 3, 0)


@pytest.fixture
def board(desk, open_ticket, django_capture_on_commit_callbacks):
    """Four P1 tickets at T0 + 40 min: one breached (first response), one at risk (first
    response met, resolution warned, progress updated), one paused, one fresh."""
    desk.front.lead = desk.tier2
    desk.front.save(update_fields=["lead"])
    breached = open_ticket(at=T0, priority="P1", title="breached")
    at_risk = open_ticket(at=T0 - timedelta(minutes=60), priority="P1", title="at risk")
    paused = open_ticket(at=T0, priority="P1", title="paused")
    with (
        time_machine.travel(T0 - timedelta(minutes=50), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=at_risk.pk, actor=desk.tier1)
    with (
        time_machine.travel(T0 + timedelta(minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_take(ticket_id=paused.pk, actor=desk.tier1)
        with django_capture_on_commit_callbacks(execute=True):
            tickets.ticket_suspend(
                ticket_id=paused.pk, actor=desk.tier1, reason=PendingReason.REQUESTER
            )
    with (
        time_machine.travel(T0 + timedelta(minutes=30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.comment_add(ticket_id=at_risk.pk, actor=desk.tier1, body="On it")
    fresh = open_ticket(at=T0 + timedelta(minutes=39), priority="P1", title="fresh")
    now = T0 + timedelta(minutes=40)
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        tasks.sweep()
    return {"breached": breached, "at_risk": at_risk, "paused": paused, "fresh": fresh, "now": now}


def test_badges_in_one_query(board, django_assert_num_queries):
    ids = [board[name].pk for name in ("breached", "at_risk", "paused", "fresh")]
    with time_machine.travel(board["now"], tick=False), django_assert_num_queries(1):
        badges = timer_badges(ids)
    states = {
        name: [(b.metric, b.state) for b in badges[board[name].pk]]
        for name in ("breached", "at_risk", "paused", "fresh")
    }
    assert states == {
        "breached": [
            (Metric.FIRST_RESPONSE, BadgeState.BREACHED),
            (Metric.RESOLUTION, BadgeState.RUNNING),
        ],
        "at_risk": [
            (Metric.FIRST_RESPONSE, BadgeState.MET),
            (Metric.RESOLUTION, BadgeState.WARNED),
            (Metric.PROGRESS_UPDATE, BadgeState.RUNNING),
        ],
        "paused": [
            (Metric.FIRST_RESPONSE, BadgeState.MET),
            (Metric.RESOLUTION, BadgeState.PAUSED),
            (Metric.PROGRESS_UPDATE, BadgeState.PAUSED),
        ],
        "fresh": [
            (Metric.FIRST_RESPONSE, BadgeState.RUNNING),
            (Metric.RESOLUTION, BadgeState.RUNNING),
        ],
    }
    fresh = badges[board["fresh"].pk][0]
    assert fresh.remaining == timedelta(minutes=29) and fresh.due_at == sh(2025, 10, 1, 4, 9)
    paused = badges[board["paused"].pk][1]
    assert paused.remaining == timedelta(hours=1, minutes=55) and paused.due_at is None
    html = render_to_string("sla/_badges.html", {"badges": badges[board["fresh"].pk]})
    assert "29 min left" in html
    assert timer_badges([]) == {}


def test_at_risk_and_breached_queues(board):
    tickets_ = Ticket.objects.all()
    assert [t.title for t in filter_queue(tickets_, "breached")] == ["breached"]
    assert [t.title for t in filter_queue(tickets_, "at_risk")] == ["at risk"]
    with pytest.raises(ValueError):
        filter_queue(tickets_, "late")


def test_dashboard_numbers(board, desk, django_capture_on_commit_callbacks):
    # The at-risk ticket is resolved in time: its resolution counts as met.
    with (
        time_machine.travel(T0 + timedelta(minutes=45), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tickets.ticket_resolve(ticket_id=board["at_risk"].pk, actor=desk.tier1, resolution="fixed")
    with time_machine.travel(T0 + timedelta(minutes=46), tick=False):
        data = sla_compliance(
            viewer=desk.admin, date_from=date(2025, 10, 1), date_to=date(2025, 10, 1)
        )
    # Decided clocks: breached first response (breach), at-risk first response and
    # resolution (met), paused first response (met); fresh has none decided.
    [p1] = data.by_priority
    assert (p1.key, p1.decided, p1.breached, p1.percent) == ("P1", 4, 1, 75.0)
    teams = {row.label: (row.decided, row.breached) for row in data.by_team}
    # The breached ticket was escalated to the middle office.
    assert teams == {"Front office": (3, 0), "Application experts": (1, 1)}
    tiers = {row.key: (row.decided, row.breached) for row in data.by_tier}
    # Front stint of the breached ticket: 31 min > the 15 min P1 front OLA.
    assert tiers == {"front": (1, 1)}
    assert [t.title for t in data.breached] == ["breached"]
    assert data.breached_count == 1 and data.at_risk_count == 0


def test_dashboard_view(client, board, desk, django_assert_max_num_queries):
    url = reverse("dashboard")
    client.force_login(desk.requester)
    assert client.get(url).status_code == 403
    client.force_login(desk.manager)  # manages unit A, where the requester is
    with time_machine.travel(board["now"], tick=False), django_assert_max_num_queries(20):
        response = client.get(url, {"date_from": "2025-10-01", "date_to": "2025-10-31"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "breached" in body and "75.0 %" not in body
    assert response.context["data"].breached_count == 1
    bad = client.get(url, {"date_from": "2025-10-31", "date_to": "2025-10-01"})
    assert bad.status_code == 400
    assert bad.context["form"].errors == {"date_to": ["The end is before the start."]}
    junk = client.get(url, {"date_from": "yesterday", "date_to": "x"})
    assert junk.status_code == 400


def test_dashboard_is_scoped_to_the_managers_units(board, desk):
    from tests.factories import UserFactory

    outsider = UserFactory(username="m2", roles=["manager"])
    outsider.managed_units.add(desk.unit_b)
    data = sla_compliance(viewer=outsider, date_from=date(2025, 10, 1), date_to=date(2025, 10, 1))
    assert data.by_priority == [] and data.breached == []


def test_api_timers_and_compliance(client, board, desk):
    timers_url = reverse("api-sla-ticket-timers", args=[board["breached"].pk])
    client.force_login(desk.requester)
    assert client.get(timers_url).status_code == 403
    assert client.get(reverse("api-sla-compliance")).status_code == 403
    client.force_login(desk.expert)  # the breach escalated it to the middle office
    body = client.get(timers_url).json()
    assert [(t["metric"], t["state"], t["breached_at"] is not None) for t in body] == [
        ("first_response", "running", True),
        ("resolution", "running", False),
    ]
    client.force_login(desk.outsider_agent)
    assert client.get(timers_url).status_code == 404
    client.force_login(desk.admin)
    url = reverse("api-sla-compliance")
    with time_machine.travel(board["now"], tick=False):
        answer = client.get(url, {"date_from": "2025-10-01", "date_to": "2025-10-01"})
    assert answer.status_code == 200
    assert answer.json()["breached_count"] == 1
    assert answer.json()["by_priority"][0]["key"] == "P1"
    bad = client.get(url, {"date_from": "2025-10-02", "date_to": "2025-10-01"})
    assert bad.status_code == 400 and "date_to" in str(bad.json())
    assert client.get(url).status_code == 400


# One badge definition (issue #11): the number is business time on the clock, running or
# paused; the deadline is in the hover title, in the viewer's time zone and labelled.


def _timer(**fields):
    from sla.models import SlaTimer

    base = {"metric": Metric.RESOLUTION, "target": timedelta(hours=4), "used": timedelta(0)}
    return SlaTimer(**{**base, **fields})


def test_running_and_paused_badges_count_the_same_business_time():
    from django.utils import timezone as dj_timezone

    from sla.business_time import BusinessCalendar
    from sla.choices import TimerState
    from sla.selectors import _badge
    from sla.templatetags.sla_tags import badges_html

    office = BusinessCalendar.standard_china()  # Mon-Fri 09:00-12:00, 13:30-18:00
    friday_evening = sh(2025, 10, 24, 17, 0)
    # Due Monday 10:30: 1 h on Friday + 1 h 30 min on Monday of business time, although the
    # wall clock says 2 d 17 h 30 min.
    running = _badge(
        _timer(state=TimerState.RUNNING, due_at=sh(2025, 10, 27, 10, 30)), friday_evening, office
    )
    paused = _badge(
        _timer(state=TimerState.PAUSED, used=timedelta(hours=1, minutes=30)),
        friday_evening,
        office,
    )
    assert (running.state, running.remaining) == (
        BadgeState.RUNNING,
        timedelta(hours=2, minutes=30),
    )
    assert (paused.state, paused.remaining, paused.due_at) == (
        BadgeState.PAUSED,
        timedelta(hours=2, minutes=30),
        None,
    )
    with dj_timezone.override("Europe/Berlin"):
        html = badges_html([running, paused])
    assert html == (
        '<span class="sla-badge sla-running" title="Resolution: Running — due 2025-10-27 03:30 '
        '(Europe/Berlin) · time left counts business hours">Resolution: 2 h 30 min left</span> '
        '<span class="sla-badge sla-paused" title="Resolution: Paused — no deadline while paused; '
        'the time left is kept · time left counts business hours">Resolution: paused, '
        "2 h 30 min left</span>"
    )
    # Overdue: the business time past the deadline (Friday 10:00 → 17:00 is 5 h 30 min of
    # office hours), and a month past it only "breached" with the deadline on hover.
    late = _badge(
        _timer(
            state=TimerState.RUNNING,
            due_at=sh(2025, 10, 24, 10, 0),
            breached_at=sh(2025, 10, 24, 10, 0),
        ),
        friday_evening,
        office,
    )
    assert (late.state, late.remaining) == (BadgeState.BREACHED, -timedelta(hours=5, minutes=30))
    long_ago = _badge(
        _timer(
            state=TimerState.RUNNING, due_at=sh(2025, 9, 1, 10, 0), breached_at=sh(2025, 9, 1, 10)
        ),
        friday_evening,
        office,
    )
    assert (long_ago.state, long_ago.remaining) == (BadgeState.BREACHED, None)
    with dj_timezone.override("Asia/Shanghai"):
        assert ">Resolution: breached (5 h 30 min late)<" in badges_html([late])
        assert ">Resolution: breached<" in badges_html([long_ago])


def test_the_portal_and_the_ticket_page_show_the_same_paused_badge(board, client, desk):
    paused = board["paused"]
    expected = "Resolution: paused, 1 h 55 min left"
    with time_machine.travel(board["now"], tick=False):
        client.force_login(desk.requester)
        portal = client.get(reverse("portal:request", args=[paused.number])).content.decode()
        client.force_login(desk.tier1)
        page = client.get(reverse("workspace:ticket", args=[paused.number])).content.decode()
    assert expected in portal and expected in page
    assert 'class="sla-badge sla-paused"' in portal
    # The requester sees only the resolution clock.
    assert "First response:" not in portal and "Progress update:" not in portal


# --- the dashboard at scale (issue #19 item 4): built from the timer side ---------------------


def _recompute(viewer, date_from: date, date_to: date, list_limit: int) -> dict:
    """The dashboard's numbers from every row, in Python: the definition, not the query."""
    visible = set(visible_tickets(viewer).values_list("pk", flat=True))
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=visible).select_related("team")}
    start = sh(date_from.year, date_from.month, date_from.day)
    end = sh(date_to.year, date_to.month, date_to.day) + timedelta(days=1)
    by_priority, by_team = Counter(), Counter()
    active: dict[int, list[SlaTimer]] = {}
    for timer in SlaTimer.objects.filter(ticket_id__in=visible):
        if timer.state in ACTIVE_TIMER_STATES:
            active.setdefault(timer.ticket_id, []).append(timer)
        decided = timer.state == TimerState.MET or timer.breached_at is not None
        if timer.metric in ESCALATING_METRICS and decided and start <= timer.started_at < end:
            team = tickets[timer.ticket_id].team
            for counter, key in ((by_priority, timer.priority), (by_team, team and team.label)):
                counter[(key, "decided")] += 1
                counter[(key, "breached")] += timer.breached_at is not None
    lists: dict[str, list] = {"breached": [], "at_risk": []}
    for ticket_id, timers in active.items():
        if tickets[ticket_id].status not in OPEN_STATUSES:
            continue
        dues = [t.due_at for t in timers if t.due_at is not None]
        key = (not dues, min(dues) if dues else None, ticket_id)
        if any(t.breached_at for t in timers):
            lists["breached"].append(key)
        elif any(t.warned_at for t in timers):
            lists["at_risk"].append(key)
    return {
        "by_priority": {
            p: (by_priority[(p, "decided")], by_priority[(p, "breached")])
            for p, kind in by_priority
            if kind == "decided"
        },
        "by_team": {
            (t or "—"): (by_team[(t, "decided")], by_team[(t, "breached")])
            for t, kind in by_team
            if kind == "decided"
        },
        "counts": {which: len(rows) for which, rows in lists.items()},
        "lists": {
            which: [key[2] for key in sorted(rows)[:list_limit]] for which, rows in lists.items()
        },
    }


def _shown(data) -> dict:
    return {
        "by_priority": {r.key: (r.decided, r.breached) for r in data.by_priority},
        "by_team": {r.label: (r.decided, r.breached) for r in data.by_team},
        "counts": {"breached": data.breached_count, "at_risk": data.at_risk_count},
        "lists": {
            "breached": [t.pk for t in data.breached],
            "at_risk": [t.pk for t in data.at_risk],
        },
    }


def test_numbers_and_lists_equal_a_recomputation(board, desk, open_ticket):
    # More breached and at-risk clocks, in other priorities, a paused breached one, a closed
    # ticket whose clock still runs (not listed) and a clock from before the period.
    extra = [open_ticket(at=T0 + timedelta(minutes=m), priority="P2") for m in range(1, 7)]
    now = board["now"]
    resolution = SlaTimer.objects.filter(metric=Metric.RESOLUTION)
    for i, ticket in enumerate(extra[:3]):
        resolution.filter(ticket=ticket).update(
            due_at=now - timedelta(minutes=10 * (3 - i)), breached_at=now, warned_at=now
        )
    resolution.filter(ticket=extra[3]).update(warned_at=now, due_at=now + timedelta(minutes=1))
    resolution.filter(ticket=extra[4]).update(
        state=TimerState.PAUSED, due_at=None, breached_at=now, warned_at=now
    )
    resolution.filter(ticket=extra[5]).update(breached_at=now, due_at=now - timedelta(hours=9))
    Ticket.objects.filter(pk=extra[5].pk).update(status=Status.CLOSED)
    SlaTimer.objects.filter(ticket=extra[0], metric=Metric.FIRST_RESPONSE).update(
        state=TimerState.MET, started_at=sh(2025, 9, 30, 23, 0)
    )
    # The rows were changed behind the services' back: bring the dashboard's records (decided
    # clocks, flagged open tickets) in line, as the reactions and the sweep do.
    sla_summary_refresh(ticket_ids=[t.pk for t in extra])
    sla_decisions_refresh(ticket_ids=[t.pk for t in extra])
    period = {"date_from": date(2025, 10, 1), "date_to": date(2025, 10, 1)}
    for viewer in (desk.admin, desk.manager):
        for limit in (50, 2):
            with time_machine.travel(now, tick=False):
                data = sla_compliance(viewer=viewer, list_limit=limit, **period)
            assert _shown(data) == _recompute(viewer, list_limit=limit, **period)
    with time_machine.travel(now, tick=False):
        data = sla_compliance(viewer=desk.admin, **period)
    # The recomputation is not empty: every kind of row is exercised.
    assert data.breached_count == 5 and data.at_risk_count == 2
    assert {r.key for r in data.by_priority} == {Priority.P1, Priority.P2}
    assert data.breached[-1].pk == extra[4].pk  # paused: no due time, listed last
    assert data.breached[0].sla_due_at == now - timedelta(minutes=30)


def _record() -> dict:
    """The dashboard's record of decided clocks and its per-day sums, as comparable values."""
    return {
        "decisions": sorted(SlaDecision.objects.values_list()),
        "days": sorted(
            SlaComplianceDay.objects.filter(decided__gt=0).values_list(
                "day", "metric", "priority", "team_id", "decided", "breached"
            ),
            key=str,
        ),
    }


def test_the_record_follows_resolution_team_changes_reassignment_and_reopen(
    board, desk, django_capture_on_commit_callbacks
):
    period = {"date_from": date(2025, 10, 1), "date_to": date(2025, 10, 1)}

    def check(expect_front: tuple[int, int]) -> None:
        # Kept incrementally by the reactions and the sweep: the same as a recount from every
        # row, and the same rows as a rebuild from scratch.
        for viewer in (desk.admin, desk.manager):
            with time_machine.travel(board["now"], tick=False):
                data = sla_compliance(viewer=viewer, list_limit=50, **period)
            assert _shown(data) == _recompute(viewer, list_limit=50, **period)
        teams = {row.label: (row.decided, row.breached) for row in data.by_team}
        assert teams.get("Front office") == expect_front
        incremental = _record()
        assert sla_decisions_rebuild() == len(incremental["decisions"])
        assert _record() == incremental

    check((2, 0))  # at T0 + 40: two first responses met in the front office

    def act(minutes: int, action, **kwargs) -> None:
        with (
            time_machine.travel(T0 + timedelta(minutes=minutes), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            action(**kwargs)

    # Resolved in time: the resolution clock is decided (met), in the front office.
    act(
        45, tickets.ticket_resolve, ticket_id=board["at_risk"].pk, actor=desk.tier1, resolution="ok"
    )
    check((3, 0))
    # The escalated ticket's breached first response follows it to the back office ...
    act(
        50,
        tickets.ticket_dispatch,
        ticket_id=board["breached"].pk,
        actor=desk.admin,
        team=desk.back,
        reason="needs the system's owners",
    )
    assert SlaDecision.objects.get(ticket_id=board["breached"].pk).team_id == desk.back.pk
    check((3, 0))
    # ... and back to the front office; taking it there changes hands, not the counts.
    act(
        55,
        tickets.ticket_dispatch,
        ticket_id=board["breached"].pk,
        actor=desk.admin,
        team=desk.front,
        reason="back to the front office",
    )
    act(56, tickets.ticket_take, ticket_id=board["breached"].pk, actor=desk.tier1)
    check((4, 1))
    # The requester rejects the fix (the ticket reopens): the resolution clock runs again, so
    # it no longer counts as decided.
    act(
        60,
        tickets.ticket_reject,
        ticket_id=board["at_risk"].pk,
        actor=desk.requester,
        reason="still broken",
    )
    check((3, 1))
    # A second refresh changes nothing (idempotent); the command recounts the same rows.
    before = _record()
    sla_decisions_refresh(ticket_ids=[t.pk for t in Ticket.objects.all()])
    assert _record() == before
    # The summary of flagged open tickets, kept by the same reactions, is the recount too.
    flagged = _summary()
    assert flagged == _recount() and len(flagged) == 2
    out = io.StringIO()
    call_command("sla_rebuild_rollup", stdout=out)
    assert out.getvalue() == (
        f"{len(before['decisions'])} decided clocks recounted.\n"
        "2 breached or at-risk open tickets summarised.\n"
    )
    assert _summary() == flagged
    assert _record() == before


# The dashboard's list rows as the template loop wrote them before they were built in Python
# (sla_tags.sla_ticket_rows): the markup must not change.
_ROWS_AS_A_TEMPLATE_LOOP = """{% load i18n sla_tags %}<table class="tickets">
  <thead><tr><th>{% translate "Ticket" %}</th><th>{% translate "Priority" %}</th><th>{% translate "Team" %}</th><th>{% translate "Assignee" %}</th><th>{% translate "SLA" %}</th></tr></thead>
  <tbody>
  {% for ticket in tickets %}<tr>
    <td>{{ ticket.number }} {{ ticket.title }}</td><td>{{ ticket.priority }}</td>
    <td>{{ ticket.team.label|default:"—" }}</td><td>{{ ticket.assignee|default:"—" }}</td>
    <td>{% include "sla/_badges.html" with badges=badges|get_item:ticket.pk %}</td>
  </tr>{% empty %}<tr><td colspan="5">{% translate "None." %}</td></tr>{% endfor %}
  </tbody>
</table>
"""  # noqa: E501


def test_list_rows_are_the_template_loops_markup(board, desk):
    from django.template import Context, Template
    from django.utils import translation

    Ticket.objects.filter(pk=board["fresh"].pk).update(
        title='<b>"Quotes" & ampersands</b>', team=None
    )
    listed = list(Ticket.objects.select_related("team", "assignee").order_by("pk"))
    assert any(t.assignee_id for t in listed) and any(not t.team_id for t in listed)
    badges = timer_badges([t.pk for t in listed])
    for language in ("en", "zh-hans"):
        with translation.override(language), time_machine.travel(board["now"], tick=False):
            for tickets in (listed, []):
                context = {"tickets": tickets, "badges": badges}
                expected = Template(_ROWS_AS_A_TEMPLATE_LOOP).render(Context(context))
                assert render_to_string("sla/_ticket_list.html", context) == expected


def test_dashboard_page_query_count_is_fixed(client, board, desk, django_assert_num_queries):
    # Whatever the period: the administrator's counts are one query of the per-day sums; a
    # unit manager's two (the clocks of the managed units, and of the few tickets the rest of
    # the scope names). The session comes from the cache, the person with their permissions
    # and their scope (teams and units) in one query.
    url = reverse("dashboard")
    for viewer, queries in ((desk.admin, 7), (desk.manager, 8)):
        client.force_login(viewer)
        for period in (("2025-10-01", "2025-10-01"), ("2024-10-02", "2025-10-01")):
            with time_machine.travel(board["now"], tick=False), django_assert_num_queries(queries):
                response = client.get(url, {"date_from": period[0], "date_to": period[1]})
            assert response.status_code == 200


def test_a_viewer_in_another_time_zone_gets_the_hours_at_the_edges(board, desk):
    # The desk's days are Asia/Shanghai; a viewer's 1 October in Europe/London starts at 07:00
    # there: whole desk days come from the per-day sums, the hours at both edges from the
    # clocks' own rows. The numbers are those of a recount in the viewer's zone.
    import zoneinfo

    from django.utils import timezone as dj_timezone

    SlaTimer.objects.filter(ticket=board["fresh"]).update(
        state=TimerState.MET, started_at=sh(2025, 10, 2, 6, 30)
    )
    SlaTimer.objects.filter(ticket=board["paused"]).update(started_at=sh(2025, 9, 30, 20, 0))
    sla_decisions_refresh(ticket_ids=[board["fresh"].pk, board["paused"].pk])
    london = zoneinfo.ZoneInfo("Europe/London")
    for days in ((date(2025, 10, 1), date(2025, 10, 1)), (date(2025, 9, 30), date(2025, 10, 2))):
        with dj_timezone.override(london), time_machine.travel(board["now"], tick=False):
            data = sla_compliance(viewer=desk.admin, date_from=days[0], date_to=days[1])
        start = datetime.combine(days[0], datetime.min.time(), tzinfo=london)
        end = datetime.combine(days[1] + timedelta(days=1), datetime.min.time(), tzinfo=london)
        decided = [
            t
            for t in SlaTimer.objects.filter(metric__in=ESCALATING_METRICS)
            if (t.state == TimerState.MET or t.breached_at) and start <= t.started_at < end
        ]
        assert decided and sum(r.decided for r in data.by_priority) == len(decided)
        assert sum(r.breached for r in data.by_priority) == sum(1 for t in decided if t.breached_at)


def test_dashboard_links_to_the_full_queue_when_the_list_is_cut(client, board, desk, monkeypatch):
    from sla import views

    client.force_login(desk.admin)
    url = reverse("dashboard")
    with time_machine.travel(board["now"], tick=False):
        body = client.get(url).content.decode()
    assert "in the queue" not in body  # every breached and at-risk ticket is listed
    monkeypatch.setattr(views, "LIST_LIMIT", 0)
    with time_machine.travel(board["now"], tick=False):
        body = client.get(url).content.decode()
    assert (
        f'href="{reverse("workspace:queue_which", args=["breached"])}">All 1 in the queue' in body
    )
    assert f'href="{reverse("workspace:queue_which", args=["at_risk"])}">All 1 in the queue' in body
