"""The dashboard's summary of breached and at-risk open tickets (`SlaTicketSummary`), kept by
the SLA reactions and the sweep: exact after every clock transition, equal to a rebuild, and
the dashboard's lists and counts read from it at a fixed number of queries."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sla import tasks
from sla.choices import ACTIVE_TIMER_STATES, Level, Metric, SummaryFlag, TimerState
from sla.models import SlaTicketSummary, SlaTimer
from sla.selectors import sla_compliance
from sla.services import sla_summary_rebuild, sla_summary_refresh, sla_timers_process
from tests.sla.conftest import sh
from tickets import services as tickets
from tickets.choices import OPEN_STATUSES, PendingReason, Status
from tickets.models import Ticket

T0 = sh(2025, 10, 1, 3, 0)


def _recount() -> dict[int, tuple]:
    """The summary from every timer and ticket, in Python: the definition, not the query."""
    active: dict[int, list[SlaTimer]] = {}
    for timer in SlaTimer.objects.filter(state__in=ACTIVE_TIMER_STATES):
        active.setdefault(timer.ticket_id, []).append(timer)
    tickets_ = Ticket.objects.in_bulk(list(active))
    rows = {}
    for ticket_id, timers in active.items():
        ticket = tickets_[ticket_id]
        if ticket.status not in OPEN_STATUSES:
            continue
        if any(t.breached_at for t in timers):
            flag = SummaryFlag.BREACHED
        elif any(t.warned_at for t in timers):
            flag = SummaryFlag.AT_RISK
        else:
            continue
        dues = [t.due_at for t in timers if t.due_at is not None]
        rows[ticket_id] = (flag, min(dues, default=None), ticket.team_id, ticket.unit_path)
    return rows


def _summary() -> dict[int, tuple]:
    return {
        row[0]: tuple(row[1:])
        for row in SlaTicketSummary.objects.values_list(
            "ticket_id", "flag", "due_at", "team_id", "unit_path"
        )
    }


def _check(expected: dict[int, tuple] | None = None) -> dict[int, tuple]:
    """The live summary equals the recount and a rebuild from scratch (which leaves it as
    it was); `expected` pins the flag and earliest due time of the tickets named."""
    live = _summary()
    assert live == _recount()
    assert sla_summary_rebuild() == len(live)
    assert _summary() == live
    if expected is not None:
        assert {pk: row[:2] for pk, row in live.items()} == expected
    return live


def test_the_summary_follows_every_clock_transition(
    open_ticket, desk, django_capture_on_commit_callbacks
):
    """One P1 ticket (24×7: first response 30 min, resolution 2 h, progress 30 min, warned at
    75 %) through warnings, breaches, an escalation, pauses, a reply, resolution, reopening, a
    dispatch and closing, with two or three clocks running at once."""
    ticket = open_ticket(at=T0, priority="P1")
    pk = ticket.pk

    def at(minutes: float, action, **kwargs) -> None:
        # The reactions run on commit, at the same instant.
        with (
            time_machine.travel(T0 + timedelta(minutes=minutes), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            action(**kwargs)

    def act(minutes: float, action, **kwargs) -> None:
        at(minutes, action, ticket_id=pk, **kwargs)

    def sweep(minutes: float) -> None:
        at(minutes, tasks.sweep)

    def due(metric: str):
        return SlaTimer.objects.filter(ticket_id=pk, metric=metric).latest("id").due_at

    _check({})  # started: two clocks, neither flagged
    sweep(23)  # first response warned (22.5 min)
    _check({pk: (SummaryFlag.AT_RISK, T0 + timedelta(minutes=30))})
    sweep(31)  # first response breached: escalated to the middle office
    live = _check({pk: (SummaryFlag.BREACHED, T0 + timedelta(minutes=30))})
    assert live[pk][2] == desk.middle.pk == Ticket.objects.get(pk=pk).team_id
    assert Ticket.objects.get(pk=pk).assignee_id == desk.expert.pk  # handed over on escalation
    # The expert answers: the first response is met (late); the progress clock starts.
    act(32, tickets.comment_add, actor=desk.expert, body="Looking")
    _check({})
    sweep(55)  # progress warned (32 + 22.5 min)
    _check({pk: (SummaryFlag.AT_RISK, T0 + timedelta(minutes=62))})
    # Waiting on the requester: every clock paused, still at risk (the paused clocks' due times
    # are what they were).
    act(56, tickets.ticket_suspend, actor=desk.expert, reason=PendingReason.REQUESTER)
    assert set(SlaTimer.objects.filter(ticket_id=pk).values_list("metric", "state")) >= {
        (Metric.RESOLUTION, TimerState.PAUSED),
        (Metric.PROGRESS_UPDATE, TimerState.PAUSED),
    }
    _check({pk: (SummaryFlag.AT_RISK, T0 + timedelta(minutes=62))})
    act(70, tickets.ticket_resume, actor=desk.expert)  # resumed: progress has 6 min left
    assert due(Metric.PROGRESS_UPDATE) == T0 + timedelta(minutes=76)
    _check({pk: (SummaryFlag.AT_RISK, T0 + timedelta(minutes=76))})
    sweep(77)  # progress breached (a reminder: no escalation)
    _check({pk: (SummaryFlag.BREACHED, T0 + timedelta(minutes=76))})
    # A public reply meets the progress clock and starts a new one: nothing flagged is left.
    act(78, tickets.comment_add, actor=desk.expert, body="Working on it")
    _check({})
    sweep(105)  # resolution warned (90 min used), the new progress clock too (78 + 22.5)
    resolution_due = due(Metric.RESOLUTION)
    _check({pk: (SummaryFlag.AT_RISK, min(resolution_due, due(Metric.PROGRESS_UPDATE)))})
    act(106, tickets.ticket_resolve, actor=desk.expert, resolution="fixed")  # met and stopped
    _check({})
    # The requester rejects the fix: the resolution clock goes on, warned as it was.
    act(110, tickets.ticket_reject, actor=desk.requester, reason="still broken")
    assert Ticket.objects.get(pk=pk).status in OPEN_STATUSES
    live = _check(
        {pk: (SummaryFlag.AT_RISK, min(due(Metric.RESOLUTION), due(Metric.PROGRESS_UPDATE)))}
    )
    assert live[pk][2] == desk.middle.pk
    # Moved to another team: the row follows (a team lead's scope reads it).
    act(111, tickets.ticket_dispatch, actor=desk.admin, team=desk.back, reason="the owners")
    assert _check()[pk][2] == desk.back.pk
    act(112, tickets.ticket_cancel, actor=desk.requester, reason="no longer needed")
    assert Ticket.objects.get(pk=pk).status == Status.CANCELLED
    _check({})


def test_a_sweep_chunk_refreshes_the_summary_in_two_statements(open_ticket):
    # Whatever the chunk's size: the locks, then one statement (no query per ticket).
    one = [open_ticket(at=T0, priority="P1", title="one")]
    six = [open_ticket(at=T0, priority="P1", title=f"six {n}") for n in range(6)]
    statements = []
    for batch in (one, six):
        timers = SlaTimer.objects.filter(ticket__in=batch, metric=Metric.RESOLUTION)
        ids = list(timers.values_list("pk", flat=True))
        with (
            time_machine.travel(T0 + timedelta(minutes=95), tick=False),
            CaptureQueriesContext(connection) as captured,
        ):
            outcome = sla_timers_process(timer_ids=ids, level=Level.WARNING)
        assert sorted(outcome.handled) == sorted(ids)
        summary_sql = [
            q["sql"] for q in captured.captured_queries if "slaticketsummary" in q["sql"]
        ]
        statements.append(len(summary_sql))
    assert statements == [2, 2]
    assert {row[0] for row in _check().values()} == {SummaryFlag.AT_RISK}
    assert len(_summary()) == 7


def test_refreshing_an_unflagged_ticket_takes_one_read_and_no_lock(open_ticket):
    ticket = open_ticket(at=T0, priority="P1")
    with CaptureQueriesContext(connection) as captured:
        sla_summary_refresh(ticket_ids=[ticket.pk])
    assert len(captured) == 1
    assert _summary() == {}
    sla_summary_refresh(ticket_ids=[])  # nothing to do: no query


def test_a_second_refresh_and_the_command_change_nothing(open_ticket, desk):
    breached, warned = (open_ticket(at=T0, priority="P1", title=t) for t in ("b", "w"))
    SlaTimer.objects.filter(ticket=breached, metric=Metric.FIRST_RESPONSE).update(
        warned_at=T0, breached_at=T0
    )
    SlaTimer.objects.filter(ticket=warned, metric=Metric.RESOLUTION).update(warned_at=T0)
    # Changed behind the services' back: nothing refreshed yet.
    assert _summary() == {}
    sla_summary_refresh(ticket_ids=[breached.pk, warned.pk])
    before = _check()
    assert {pk: row[0] for pk, row in before.items()} == {
        breached.pk: SummaryFlag.BREACHED,
        warned.pk: SummaryFlag.AT_RISK,
    }
    sla_summary_refresh(ticket_ids=[breached.pk, warned.pk])
    assert _summary() == before
    SlaTicketSummary.objects.all().delete()
    out = io.StringIO()
    call_command("sla_rebuild_rollup", stdout=out)
    assert out.getvalue().splitlines()[-1] == "2 breached or at-risk open tickets summarised."
    assert _summary() == before


@pytest.fixture
def flagged(open_ticket, desk):
    """Make `n` more open tickets flagged (half breached), through the rebuild."""
    made: list[Ticket] = []

    def make(n: int) -> list[Ticket]:
        new = [open_ticket(at=T0, priority="P2", title=f"flagged {i}") for i in range(n)]
        for i, ticket in enumerate(new):
            SlaTimer.objects.filter(ticket=ticket, metric=Metric.RESOLUTION).update(
                warned_at=T0,
                breached_at=T0 if i % 2 else None,
                due_at=T0 + timedelta(minutes=i % 7),
            )
        sla_summary_rebuild()
        made.extend(new)
        return new

    return make


def test_dashboard_queries_do_not_grow_with_the_flagged_backlog(client, desk, flagged):
    url = reverse("dashboard")
    period = {"date_from": "2025-10-01", "date_to": "2025-10-01"}
    costs: dict[str, list[int]] = {}
    for total in (4, 60):
        flagged(total - SlaTicketSummary.objects.count())
        assert SlaTicketSummary.objects.count() == total
        for viewer in (desk.admin, desk.manager):
            client.force_login(viewer)
            with (
                time_machine.travel(T0, tick=False),
                CaptureQueriesContext(connection) as captured,
            ):
                response = client.get(url, period)
            costs.setdefault(viewer.username, []).append(len(captured))
            data = response.context["data"]
            assert data.breached_count + data.at_risk_count == total
            assert len(data.breached) == min(data.breached_count, 50)
    # The lists and counts are one query and the listed tickets another, whatever the backlog
    # (the manager's scope comes with the person: accounts/backends.py).
    assert costs == {"admin": [6, 6], "manager": [7, 7]}


def test_lists_and_counts_equal_a_recount_for_every_kind_of_viewer(desk, flagged):
    """An administrator, a unit manager, a team member (team, assigned, requested, followed)
    and a manager of another unit; list limits 50 and 3; ties on the due time by id."""
    from tests.factories import UserFactory
    from tickets.selectors import visible_tickets

    made = flagged(12)
    Ticket.objects.filter(pk__in=[t.pk for t in made[:4]]).update(team=desk.middle)
    Ticket.objects.filter(pk=made[5].pk).update(assignee=desk.expert)
    SlaTimer.objects.filter(ticket=made[6], metric=Metric.RESOLUTION).update(
        state=TimerState.PAUSED, due_at=None
    )
    tickets.ticket_follow(ticket=made[7], actor=desk.expert)
    outsider = UserFactory(username="m-b", roles=["manager"])
    outsider.managed_units.add(desk.unit_b)
    sla_summary_refresh(ticket_ids=[t.pk for t in made])
    _check()
    viewers = (desk.admin, desk.manager, desk.expert, outsider)
    for viewer in viewers:
        visible = set(visible_tickets(viewer).values_list("pk", flat=True))
        rows = {pk: row for pk, row in _recount().items() if pk in visible}
        for limit in (50, 3):
            data = sla_compliance(
                viewer=viewer,
                date_from=date(2025, 10, 1),
                date_to=date(2025, 10, 1),
                list_limit=limit,
            )
            for flag, listed, count in (
                (SummaryFlag.BREACHED, data.breached, data.breached_count),
                (SummaryFlag.AT_RISK, data.at_risk, data.at_risk_count),
            ):
                mine = sorted(
                    (row[1] is None, row[1], pk) for pk, row in rows.items() if row[0] == flag
                )
                assert count == len(mine)
                assert [t.pk for t in listed] == [key[2] for key in mine[:limit]]
                assert [t.sla_due_at for t in listed] == [key[1] for key in mine[:limit]]
    expert = sla_compliance(
        viewer=desk.expert, date_from=date(2025, 10, 1), date_to=date(2025, 10, 1)
    )
    # The middle office's four, the assigned one and the followed one.
    assert expert.breached_count + expert.at_risk_count == 6
    assert (
        sla_compliance(
            viewer=outsider, date_from=date(2025, 10, 1), date_to=date(2025, 10, 1)
        ).breached
        == []
    )


def test_a_scope_part_that_matches_nothing_or_everything(desk, flagged):
    from django.db.models import Q

    from sla.selectors import _flagged_open_tickets

    flagged(3)
    _lists, counts = _flagged_open_tickets(Q(team_id__in=[]), 50)
    assert counts == {"breached": 0, "at_risk": 0}
    _lists, counts = _flagged_open_tickets(
        Q(team_id__in=[]) | Q(requester_id=desk.requester.pk), 50
    )
    assert counts == {"breached": 1, "at_risk": 2}
