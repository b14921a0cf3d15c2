"""Tier stints (OLA per tier): the one place they are written, for a single hand-over (the
ASSIGNMENT_CHANGED reaction) and for the sweep's bulk escalations."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from psycopg2.extras import execute_values

from tickets.choices import Status
from tickets.models import Ticket

from ..business_time import BusinessCalendar, business_time_between
from ..choices import Metric
from ..models import (
    SlaTimer,
    TierSpan,
)
from .common import _lock_ticket_sla, _lock_tickets_sla, calendars_by_id


def tier_span_on_assignment(*, ticket_id: int, new_tier: str, new_team_id: int | None) -> None:
    """The ASSIGNMENT_CHANGED reaction: move the ticket's tier stint when the tier or team
    changed. Read-only when the stint is already right (the sweep records the stints of its
    own escalations in bulk, from the moves `ticket_escalate_many` returns)."""
    current = (
        TierSpan.objects.filter(ticket_id=ticket_id, ended_at=None)
        .values_list("tier", "team_id")
        .first()
    )
    if current == (new_tier, new_team_id) or (current is None and not new_tier):
        return
    with transaction.atomic():
        now = _lock_ticket_sla(ticket_id)  # the desk's clock (servicedesk/clock.py)
        tier_spans_move(moves=[(ticket_id, new_tier, new_team_id)], now=now)


def tier_spans_on_assignment_many(*, moves: list[tuple[int, str, int | None]]) -> None:
    """`tier_span_on_assignment` for many hand-overs at once, one per ticket (an intake batch):
    the tickets' SLA locks in one query, then `tier_spans_move`."""
    if moves:
        now = _lock_tickets_sla([ticket_id for ticket_id, _tier, _team in moves])
        tier_spans_move(moves=moves, now=now)


def tier_spans_move(*, moves: list[tuple[int, str, int | None]], now: datetime) -> None:
    """The one place tier stints (OLA per tier) are written: for each (ticket, new tier, new
    team), close the open stint, measuring its business time on the ticket's resolution
    calendar, and open the next one unless the ticket is finished. Idempotent: a ticket whose
    open stint is already the new one is left alone. Caller holds the tickets' SLA locks or
    row locks. A stint is never measured backwards (a clock step back gives zero, not an
    error)."""
    target = {ticket_id: (tier, team_id) for ticket_id, tier, team_id in moves}
    if not target:
        return
    open_spans = {
        span.ticket_id: span
        for span in TierSpan.objects.select_for_update().filter(
            ticket_id__in=list(target), ended_at=None
        )
    }
    to_move = [
        ticket_id
        for ticket_id, new in target.items()
        if ticket_id not in open_spans
        or (open_spans[ticket_id].tier, open_spans[ticket_id].team_id) != new
    ]
    if not to_move:
        return
    tickets = {
        row["pk"]: row
        for row in Ticket.objects.filter(pk__in=to_move).values("pk", "status", "priority")
    }
    calendars = _resolution_calendars([t for t in to_move if t in open_spans])
    closing = []
    # A stint ends (and the next starts) at `now`, or where it started if `now` is earlier (a
    # clock stepped back): never a stint that ends before it began, nor a negative duration.
    switch_at = {ticket_id: now for ticket_id in to_move}
    for ticket_id in to_move:
        span = open_spans.get(ticket_id)
        if span is None:
            continue
        calendar = calendars.get(ticket_id) or BusinessCalendar.twenty_four_seven()
        ended = switch_at[ticket_id] = max(span.started_at, now)
        closing.append((span.pk, business_time_between(calendar, span.started_at, ended), ended))
    if closing:
        # One UPDATE … FROM (VALUES …): a per-row CASE (bulk_update) costs more in Python
        # than the whole escalation of a sweep chunk.
        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                "UPDATE sla_tierspan AS s SET ended_at = v.ended_at, "
                "business_time = v.business_time FROM (VALUES %s) "
                "AS v(id, business_time, ended_at) WHERE s.id = v.id",
                closing,
                template="(%s, %s::interval, %s::timestamptz)",
            )
    TierSpan.objects.bulk_create(
        TierSpan(
            ticket_id=ticket_id,
            tier=target[ticket_id][0],
            team_id=target[ticket_id][1],
            priority=tickets[ticket_id]["priority"],
            started_at=switch_at[ticket_id],
        )
        for ticket_id in sorted(to_move)
        if target[ticket_id][0]
        and ticket_id in tickets
        and tickets[ticket_id]["status"] not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
    )


def _resolution_calendars(ticket_ids: list[int]) -> dict[int, BusinessCalendar]:
    """Each ticket's calendar: that of its latest resolution timer (one query)."""
    if not ticket_ids:
        return {}
    latest = (
        SlaTimer.objects.filter(ticket_id__in=ticket_ids, metric=Metric.RESOLUTION)
        .order_by("ticket_id", "-id")
        .distinct("ticket_id")
        .values_list("ticket_id", "calendar_id")
    )
    by_ticket = dict(latest)
    configs = calendars_by_id(set(by_ticket.values()))
    return {ticket_id: configs[calendar_id] for ticket_id, calendar_id in by_ticket.items()}
