"""Keeping the read model fresh: ticket facts and daily rollups, refreshed incrementally.

The watermark is the operation log (`TicketEvent.id`): every service that changes a ticket, its
SLA clocks (warnings, breaches, escalations) or its rating writes a log entry, so the tickets
with entries above the watermark are exactly the ones whose facts may have changed. A refresh

1. reads the ids of tickets with log entries above the watermark (minus a small overlap, so an
   entry whose transaction committed late, with a lower id than one already read, is still
   seen — recomputing a fact twice is harmless);
2. remembers the days those tickets touched (created, resolved, closed) before and after;
3. recomputes their facts with one set-based INSERT … ON CONFLICT per chunk;
4. rebuilds the daily rollup rows of every touched day from the facts.

Every step derives rows from the source tables, never adds deltas, so running it twice, or two
beats at once (they serialise on an advisory lock), gives the same tables as a full rebuild.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tickets.choices import OPEN_STATUSES

from .models import RollupState

logger = logging.getLogger(__name__)

STATE_KEY = "rollup"
ADVISORY_LOCK = 7_316_001  # any constant unique to this job
CHUNK = 5_000
FULL_CHUNK = 20_000
# How many log entries below the watermark are read again on each refresh (see the docstring).
OVERLAP = 1_000

DIMENSIONS = (
    "unit_id",
    "unit_path",
    "team_id",
    "tier",
    "priority",
    "request_type_id",
    "system_id",
)

FACT_COLUMNS = (
    "ticket_id",
    "created_at",
    "created_day",
    "resolved_day",
    "closed_day",
    "unit_id",
    "unit_path",
    "team_id",
    "tier",
    "priority",
    "request_type_id",
    "system_id",
    "module_id",
    "category_id",
    "requester_id",
    "assignee_id",
    "channel",
    "status",
    "is_open",
    "first_response_seconds",
    "resolution_seconds",
    "first_response",
    "resolution",
    "progress_update",
    "reopened",
    "escalated_from_front",
    "escalated_from_middle",
    "front_resolved",
    "first_contact",
    "seconds_front",
    "seconds_middle",
    "seconds_back",
    "ola_breached_front",
    "ola_breached_middle",
    "ola_breached_back",
    "rating",
    "confidence",
)


def _outcome(metric: str) -> str:
    return (
        f"CASE WHEN bool_or(breached_at IS NOT NULL) FILTER (WHERE metric = '{metric}') THEN 2"
        f" WHEN bool_or(state = 'met') FILTER (WHERE metric = '{metric}') THEN 1 ELSE 0 END"
    )


def _tier_seconds(tier: str) -> str:
    return (
        f"extract(epoch FROM sum(s.business_time) FILTER (WHERE s.tier = '{tier}'))::int"
        f" AS sec_{tier}, bool_or(s.business_time > o.target)"
        f" FILTER (WHERE s.tier = '{tier}' AND o.target IS NOT NULL) AS ola_{tier}"
    )


# The facts of the tickets whose ids are in %(ids)s (or of an id range, for a full rebuild).
# First-contact resolution: resolved in the front office, never escalated, by at most one agent,
# never reopened. Tier-1 (front-office) resolution: resolved without leaving the front office.
_FACT_SELECT = f"""
SELECT t.id, t.created_at,
       (t.created_at AT TIME ZONE %(tz)s)::date,
       (t.resolved_at AT TIME ZONE %(tz)s)::date,
       CASE WHEN t.status = 'closed' THEN (t.closed_at AT TIME ZONE %(tz)s)::date END,
       t.unit_id, t.unit_path, t.team_id, t.tier, t.priority, t.request_type_id, t.system_id,
       t.module_id, t.category_id, t.requester_id, t.assignee_id, t.channel, t.status,
       t.status = ANY(%(open)s),
       extract(epoch FROM t.first_response_at - t.created_at)::int,
       extract(epoch FROM t.resolved_at - t.created_at)::int,
       coalesce(sl.fr, 0), coalesce(sl.res, 0), coalesce(sl.pu, 0),
       t.reopen_count > 0,
       coalesce(ev.esc_front, false), coalesce(ev.esc_middle, false),
       {{front_resolved}},
       {{front_resolved}} AND t.reopen_count = 0 AND coalesce(ev.assignees, 0) <= 1,
       sp.sec_front, sp.sec_middle, sp.sec_back, sp.ola_front, sp.ola_middle, sp.ola_back,
       r.score, t.classification_confidence
FROM tickets_ticket t
LEFT JOIN LATERAL (
    SELECT {_outcome("first_response")} AS fr, {_outcome("resolution")} AS res,
           {_outcome("progress_update")} AS pu
    FROM sla_slatimer WHERE ticket_id = t.id
) sl ON true
LEFT JOIN LATERAL (
    SELECT bool_or(old_value #>> '{{{{}}}}' = 'front'
                   AND new_value #>> '{{{{}}}}' IN ('middle', 'back'))
               FILTER (WHERE kind = 'ticket.tier_changed') AS esc_front,
           bool_or(old_value #>> '{{{{}}}}' = 'middle' AND new_value #>> '{{{{}}}}' = 'back')
               FILTER (WHERE kind = 'ticket.tier_changed') AS esc_middle,
           count(DISTINCT new_value #>> '{{{{}}}}')
               FILTER (WHERE kind = 'ticket.assigned' AND new_value #>> '{{{{}}}}' IS NOT NULL)
               AS assignees
    FROM tickets_ticketevent WHERE ticket_id = t.id
) ev ON true
LEFT JOIN LATERAL (
    SELECT bool_or(s.tier <> 'front') AS left_front,
           {_tier_seconds("front")}, {_tier_seconds("middle")}, {_tier_seconds("back")}
    FROM sla_tierspan s
    LEFT JOIN sla_olatarget o ON o.tier = s.tier AND o.priority = s.priority
    WHERE s.ticket_id = t.id
) sp ON true
LEFT JOIN feedback_rating r ON r.ticket_id = t.id
""".format(  # noqa: S608  # nosec B608
    front_resolved=(
        "(t.resolved_at IS NOT NULL AND t.tier = 'front'"
        " AND NOT coalesce(sp.left_front, false) AND NOT coalesce(ev.esc_front, false))"
    )
)

# Built only from the module's own constant column names, never from input.
_FACT_UPSERT = (
    f"INSERT INTO reports_ticketfact ({', '.join(FACT_COLUMNS)}) {_FACT_SELECT} {{where}} "  # nosec B608
    "ON CONFLICT (ticket_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in FACT_COLUMNS[1:])
)

_ZERO = "0"


ROLLUP_COUNTERS = [
    "created",
    "resolved",
    "closed",
    "reopened",
    "front_resolved",
    "first_contact",
    "escalated_from_front",
    "escalated_from_middle",
    "fr_met",
    "fr_breached",
    "res_met",
    "res_breached",
    "pu_met",
    "pu_breached",
    "fr_seconds",
    "fr_count",
    "res_seconds",
    "res_count",
    "rating_sum",
    "rating_count",
    "in_front",
    "in_middle",
    "in_back",
    "seconds_front",
    "seconds_middle",
    "seconds_back",
    "ola_breached_front",
    "ola_breached_middle",
    "ola_breached_back",
]


def _part(day_column: str, values: dict[str, str]) -> str:
    """One branch of the rollup's UNION: the facts counted on `day_column` (every counter the
    branch does not name is 0)."""
    selected = ", ".join(f"{values.get(c, _ZERO)} AS {c}" for c in ROLLUP_COUNTERS)
    # Built only from the module's own constant column names, never from input.
    return (
        f"SELECT {day_column} AS day, {', '.join(DIMENSIONS)}, {selected} "  # noqa: S608  # nosec B608
        f"FROM reports_ticketfact WHERE {day_column} {{day_filter}}"
    )


_CREATED_PART = _part(
    "created_day",
    {
        "created": "1",
        "escalated_from_front": "escalated_from_front::int",
        "escalated_from_middle": "escalated_from_middle::int",
        "fr_met": "(first_response = 1)::int",
        "fr_breached": "(first_response = 2)::int",
        "res_met": "(resolution = 1)::int",
        "res_breached": "(resolution = 2)::int",
        "pu_met": "(progress_update = 1)::int",
        "pu_breached": "(progress_update = 2)::int",
        "fr_seconds": "coalesce(first_response_seconds, 0)",
        "fr_count": "(first_response_seconds IS NOT NULL)::int",
        **{
            f"in_{tier}": f"(seconds_{tier} IS NOT NULL)::int"
            for tier in ("front", "middle", "back")
        },
        **{
            f"seconds_{tier}": f"coalesce(seconds_{tier}, 0)"
            for tier in ("front", "middle", "back")
        },
        **{
            f"ola_breached_{tier}": f"coalesce(ola_breached_{tier}, false)::int"
            for tier in ("front", "middle", "back")
        },
    },
)
_RESOLVED_PART = _part(
    "resolved_day",
    {
        "resolved": "1",
        "reopened": "reopened::int",
        "front_resolved": "front_resolved::int",
        "first_contact": "first_contact::int",
        "res_seconds": "coalesce(resolution_seconds, 0)",
        "res_count": "(resolution_seconds IS NOT NULL)::int",
        "rating_sum": "coalesce(rating, 0)",
        "rating_count": "(rating IS NOT NULL)::int",
    },
)
_CLOSED_PART = _part("closed_day", {"closed": "1"})

_ROLLUP_INSERT = (
    f"INSERT INTO reports_dailyrollup (day, {', '.join(DIMENSIONS)}, {', '.join(ROLLUP_COUNTERS)}) "  # noqa: S608
    f"SELECT day, {', '.join(DIMENSIONS)}, "
    + ", ".join(f"sum({c})" for c in ROLLUP_COUNTERS)
    + f" FROM ({_CREATED_PART} UNION ALL {_RESOLVED_PART} UNION ALL {_CLOSED_PART}) x "
    f"GROUP BY day, {', '.join(DIMENSIONS)} "
    # Rows of one day are written together, so a period's rows sit in a few pages of the
    # table instead of one page each (600 ms → a few ms for 30 days at 1,000,000 tickets).
    "ORDER BY day"
)


@dataclass(frozen=True)
class RefreshResult:
    tickets: int
    days: int
    last_event_id: int


def _params(**extra) -> dict:
    return {"tz": settings.TIME_ZONE, "open": list(OPEN_STATUSES), **extra}


def _touched_days(cursor, ids: Sequence[int]) -> set[date]:
    cursor.execute(
        "SELECT created_day, resolved_day, closed_day FROM reports_ticketfact "
        "WHERE ticket_id = ANY(%s)",
        [list(ids)],
    )
    return {day for row in cursor.fetchall() for day in row if day is not None}


def _rebuild_days(cursor, days: Iterable[date]) -> None:
    days = sorted(days)
    if not days:
        return
    cursor.execute("DELETE FROM reports_dailyrollup WHERE day = ANY(%s)", [days])
    cursor.execute(_ROLLUP_INSERT.replace("{day_filter}", "= ANY(%(days)s)"), {"days": days})


def _chunks(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def facts_refresh(*, ticket_ids: Sequence[int]) -> set[date]:
    """Recompute the facts of these tickets; return every day they touch, before and after."""
    days: set[date] = set()
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(set(ticket_ids)), CHUNK):
            days |= _touched_days(cursor, chunk)
            cursor.execute(
                _FACT_UPSERT.replace("{where}", "WHERE t.id = ANY(%(ids)s)"), _params(ids=chunk)
            )
            days |= _touched_days(cursor, chunk)
    return days


def _full_rebuild(cursor) -> RefreshResult:
    cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticketevent")
    high = cursor.fetchone()[0]
    cursor.execute("TRUNCATE reports_ticketfact, reports_dailyrollup")
    cursor.execute("SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM tickets_ticket")
    low, top = cursor.fetchone()
    start = low
    while start and start <= top:
        cursor.execute(
            _FACT_UPSERT.replace("{where}", "WHERE t.id >= %(lo)s AND t.id < %(hi)s"),
            _params(lo=start, hi=start + FULL_CHUNK),
        )
        start += FULL_CHUNK
    cursor.execute(_ROLLUP_INSERT.replace("{day_filter}", "IS NOT NULL"))
    # Fresh statistics, so the planner knows how many rows a period holds.
    cursor.execute("ANALYZE reports_ticketfact")
    cursor.execute("ANALYZE reports_dailyrollup")
    cursor.execute("SELECT count(*), count(DISTINCT created_day) FROM reports_ticketfact")
    tickets, days = cursor.fetchone()
    return RefreshResult(tickets=tickets, days=days, last_event_id=high)


def rollup_refresh(*, full: bool = False) -> RefreshResult:
    """Bring facts and rollups up to the operation log; `full=True` rebuilds everything.

    Guards: one refresh at a time (a transaction-level advisory lock; a second caller waits and
    then finds nothing new). Side effects: none besides the read-model tables and the watermark.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        state, _ = RollupState.objects.select_for_update().get_or_create(key=STATE_KEY)
        if full:
            result = _full_rebuild(cursor)
        else:
            cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticketevent")
            high = cursor.fetchone()[0]
            cursor.execute(
                "SELECT DISTINCT ticket_id FROM tickets_ticketevent WHERE id > %s AND id <= %s",
                [max(state.last_event_id - OVERLAP, 0), high],
            )
            ids = [row[0] for row in cursor.fetchall()]
            days = facts_refresh(ticket_ids=ids)
            _rebuild_days(cursor, days)
            result = RefreshResult(tickets=len(ids), days=len(days), last_event_id=high)
        state.last_event_id = result.last_event_id
        state.refreshed_at = timezone.now()
        state.tickets_refreshed = result.tickets
        state.generation = uuid.uuid4()
        state.save(
            update_fields=["last_event_id", "refreshed_at", "tickets_refreshed", "generation"]
        )
    logger.info("reports rollup refresh: %s", result)
    return result
