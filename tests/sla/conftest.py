"""Fixtures of the SLA tests: Celery runs tasks inline (eager) unless a test starts a worker."""

from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.notifications.conftest import eager_celery  # noqa: F401
from tickets import services as tickets
from tickets.models import Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    """A wall time in Asia/Shanghai."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def open_ticket(desk, django_capture_on_commit_callbacks):
    """Create a ticket at a frozen instant with the given priority, routed to a team, with its
    SLA clocks started: only the SLA engine's reactions run (routing's automatic
    classification is not part of these tests)."""
    from sla.services import sla_timers_recalculate, sla_timers_start

    def make(*, at: datetime | None, priority: str = "P1", team=None, title="Trading is down"):
        clock = time_machine.travel(at, tick=False) if at else contextlib.nullcontext()
        with clock:
            with django_capture_on_commit_callbacks(execute=False):
                ticket, _ = tickets.ticket_create(
                    requester=desk.requester, title=title, created_by=desk.requester
                )
            Ticket.objects.filter(pk=ticket.pk).update(priority=priority)
            sla_timers_start(ticket_id=ticket.pk)
            # In transactional tests the creation reactions already ran on commit (with the
            # default priority): bring the clocks to the priority set above.
            sla_timers_recalculate(ticket_id=ticket.pk)
            with django_capture_on_commit_callbacks(execute=True):
                team = team or desk.front
                tickets.ticket_route(ticket_id=ticket.pk, actor=None, tier=team.tier, team=team)
        return Ticket.objects.get(pk=ticket.pk)

    return make
