"""A small fixture desk whose report numbers are worked out by hand in the tests.

Four P1 tickets created on Monday 2 March 2026 at 09:00 (Asia/Shanghai), all routed to the front
office; P1 clocks run 24×7 (first response 30 min, resolution 2 h):

- T1: tier 1 takes it at 09:10 (the first response), resolves at 09:40; the requester
  confirms and rates 5.
- T2: the sweep at 09:45 breaches its first response; tier 1 takes it at 10:00, escalates it
  to the middle office at 10:30; the sweep at 11:30 breaches its resolution; the expert
  resolves at 12:00; the requester confirms and rates 2.
- T3: tier 1 takes it at 09:20, resolves at 09:50; the requester rejects at 10:00; tier 1
  resolves again at 10:30 (left awaiting confirmation).
- T4: nobody takes it: both clocks breached, still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine

from portal.services import ticket_rate
from reports.rollups import rollup_refresh
from sla import tasks as sla_tasks
from sla.models import EscalationPolicy
from tests.sla.conftest import eager_celery, open_ticket, sh  # noqa: F401
from tickets import services as tickets
from tickets.models import Ticket

DAY = sh(2026, 3, 2, 0, 0).date()


def at(hour: int, minute: int):
    return sh(2026, 3, 2, hour, minute)


@dataclass
class ReportDesk:
    desk: object
    t1: Ticket
    t2: Ticket
    t3: Ticket
    t4: Ticket


@pytest.fixture
def report_desk(desk, open_ticket, django_capture_on_commit_callbacks):  # noqa: F811
    def act(when, fn, **kwargs):
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return fn(**kwargs)

    # Breaches only mark the clocks here: no escalation step moves the tickets on its own.
    EscalationPolicy.objects.all().delete()
    made = [
        open_ticket(at=at(9, 0), priority="P1", title=title)
        for title in ("VPN is down", "Trading is slow", "Printer jams", "Mail bounces")
    ]
    t1, t2, t3, _t4 = made
    tier1, expert, requester = desk.tier1, desk.expert, desk.requester
    # Taking a ticket is the first response (the desk acts for the requester).
    act(at(9, 10), tickets.ticket_assign, ticket_id=t1.pk, actor=tier1, assignee=tier1)
    act(at(9, 20), tickets.ticket_assign, ticket_id=t3.pk, actor=tier1, assignee=tier1)
    act(at(9, 40), tickets.ticket_resolve, ticket_id=t1.pk, actor=tier1, resolution="Fixed")
    act(at(9, 45), sla_tasks.sweep)
    act(at(9, 50), tickets.ticket_resolve, ticket_id=t3.pk, actor=tier1, resolution="Fixed")
    act(at(10, 0), tickets.ticket_assign, ticket_id=t2.pk, actor=tier1, assignee=tier1)
    act(at(10, 0), tickets.ticket_confirm, ticket_id=t1.pk, actor=requester)
    act(at(10, 0), tickets.ticket_reject, ticket_id=t3.pk, actor=requester, reason="Still jams")
    act(at(10, 5), ticket_rate, ticket_id=t1.pk, actor=requester, score=5)
    act(at(10, 30), tickets.ticket_resolve, ticket_id=t3.pk, actor=tier1, resolution="Now fixed")
    act(
        at(10, 30),
        tickets.ticket_dispatch,
        ticket_id=t2.pk,
        actor=tier1,
        team=desk.middle,
        reason="Needs an expert",
        escalation=True,
    )
    act(at(10, 35), tickets.ticket_assign, ticket_id=t2.pk, actor=expert, assignee=expert)
    act(at(11, 30), sla_tasks.sweep)
    act(at(12, 0), tickets.ticket_resolve, ticket_id=t2.pk, actor=expert, resolution="Tuned")
    act(at(12, 10), tickets.ticket_confirm, ticket_id=t2.pk, actor=requester)
    act(at(12, 15), ticket_rate, ticket_id=t2.pk, actor=requester, score=2)
    with time_machine.travel(at(12, 30) + timedelta(minutes=1), tick=False):
        rollup_refresh()
    return ReportDesk(desk, *(Ticket.objects.get(pk=t.pk) for t in made))
