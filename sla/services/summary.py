"""The dashboard's summary of flagged open tickets (`SlaTicketSummary`): per ticket whose
active clocks include a warned or breached one, its flag, its earliest active due time and its
team and unit, kept identical to what its timers and ticket say.

`sla_summary_refresh` recomputes the rows of some tickets from their timers in one statement
(set-based: a sweep chunk's 200 tickets cost the same two statements as one ticket). It runs
where a clock changed, in that transaction: after the SLA services in every reaction (a clock
started again, paused, resumed, met, stopped, reopened, recalculated; the ticket resolved,
closed or moved to another team) and at the end of each sweep chunk (warned, breached,
escalated). A ticket without a flagged clock and without a row costs one read and no lock, so
new clocks and the intake drain pay nothing. Running it again changes nothing.

Locks: the same per-ticket advisory locks as the record of decided clocks (`decisions.py`),
taken last in the transaction and in id order, and the shared lock that a rebuild of either
record takes exclusively; the rows are computed by a statement after the locks, so two
refreshes of one ticket (a reaction and a sweep chunk) never write what the other's snapshot
missed. docs/decisions/0011-sla-ticket-summary.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from tickets.choices import OPEN_STATUSES

from ..choices import ACTIVE_TIMER_STATES, SummaryFlag
from .decisions import _DECISIONS_NAMESPACE, _REBUILD_KEY

# The per-ticket locks only when a ticket has a flagged active clock or a row: most refreshes
# (a new ticket's clocks, a hand-over of an unflagged ticket) end here, unlocked. A row comes
# back only when the locks were taken. `sla_timer_flagged` answers the first EXISTS.
_LOCK_IF_FLAGGED = """
SELECT pg_advisory_xact_lock_shared(%(namespace)s, %(rebuild)s) FROM (
    SELECT count(pg_advisory_xact_lock(%(namespace)s, key)) AS locked FROM (
        SELECT DISTINCT (id %% 2147483647)::int + 1 AS key
        FROM unnest(%(ids)s::bigint[]) AS t(id) ORDER BY key
    ) AS keys
    WHERE EXISTS (
        SELECT 1 FROM sla_slatimer
        WHERE ticket_id = ANY(%(ids)s) AND state IN ('running', 'paused')
          AND (warned_at IS NOT NULL OR breached_at IS NOT NULL)
    ) OR EXISTS (SELECT 1 FROM sla_slaticketsummary WHERE ticket_id = ANY(%(ids)s))
) AS held
WHERE locked > 0
"""

# What the rows of some tickets should be: the open tickets among them with a flagged active
# clock. `{tickets}` narrows the timers read (the tickets of a refresh, or every flagged one).
_WANTED = """
SELECT t.ticket_id,
       CASE WHEN bool_or(t.breached_at IS NOT NULL) THEN %(breached)s ELSE %(at_risk)s END
           AS flag,
       min(t.due_at) AS due_at, k.team_id, k.unit_path
FROM sla_slatimer t JOIN tickets_ticket k ON k.id = t.ticket_id
WHERE {tickets} AND t.state = ANY(%(active)s) AND k.status = ANY(%(open)s)
GROUP BY t.ticket_id, k.team_id, k.unit_path
HAVING bool_or(t.warned_at IS NOT NULL OR t.breached_at IS NOT NULL)
"""

# One statement: the tickets no longer flagged lose their row, the others are written as they
# are now (a row that did not change is not rewritten).
_REFRESH = (
    "WITH wanted AS ("  # noqa: S608  # nosec B608: constant SQL, the values are parameters
    + _WANTED.format(tickets="t.ticket_id = ANY(%(ids)s)")
    + """),
removed AS (
    DELETE FROM sla_slaticketsummary s
    WHERE s.ticket_id = ANY(%(ids)s)
      AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.ticket_id = s.ticket_id)
)
INSERT INTO sla_slaticketsummary AS s (ticket_id, flag, due_at, team_id, unit_path)
SELECT ticket_id, flag, due_at, team_id, unit_path FROM wanted
ON CONFLICT (ticket_id) DO UPDATE
SET flag = EXCLUDED.flag, due_at = EXCLUDED.due_at, team_id = EXCLUDED.team_id,
    unit_path = EXCLUDED.unit_path
WHERE (s.flag, s.due_at, s.team_id, s.unit_path)
    IS DISTINCT FROM (EXCLUDED.flag, EXCLUDED.due_at, EXCLUDED.team_id, EXCLUDED.unit_path)
"""
)

# Every flagged ticket, from the flagged active clocks (`sla_timer_flagged`), not the timer
# table. DELETE, not TRUNCATE: TRUNCATE's table lock would wait for a refresh that read the
# table (its gate) and now waits for the rebuild's advisory lock — a deadlock; the table is
# the flagged backlog's size.
_REBUILD = [
    "DELETE FROM sla_slaticketsummary",
    "INSERT INTO sla_slaticketsummary (ticket_id, flag, due_at, team_id, unit_path) "  # noqa: S608
    + _WANTED.format(
        tickets="""t.ticket_id IN (
            SELECT ticket_id FROM sla_slatimer
            WHERE state IN ('running', 'paused')
              AND (warned_at IS NOT NULL OR breached_at IS NOT NULL))"""
    ),
]


def _params() -> dict:
    return {
        "breached": str(SummaryFlag.BREACHED),
        "at_risk": str(SummaryFlag.AT_RISK),
        "active": [str(state) for state in ACTIVE_TIMER_STATES],
        "open": [str(status) for status in OPEN_STATUSES],
        "namespace": _DECISIONS_NAMESPACE,
        "rebuild": _REBUILD_KEY,
    }


def sla_summary_refresh(*, ticket_ids: Iterable[int]) -> None:
    """Bring the summary rows of these tickets in line with their active clocks and their
    ticket (status, team). One query when none of them has a flagged clock or a row, two
    otherwise (the locks, then one statement that deletes and writes). Idempotent; joins the
    caller's transaction (call it last there: it takes locks)."""
    ids = sorted({int(pk) for pk in ticket_ids})
    if not ids:
        return
    params = {**_params(), "ids": ids}
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_LOCK_IF_FLAGGED, params)
        if cursor.fetchone() is None:
            return
        # A statement of its own after the locks: it sees what another refresh of these
        # tickets committed meanwhile.
        cursor.execute(_REFRESH, params)


def sla_summary_rebuild() -> int:
    """Recompute every row from the timers (an existing desk, rows changed behind the
    services' back). Waits for running refreshes and holds new ones until it commits;
    returns the number of flagged open tickets."""
    params = _params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [params["namespace"], _REBUILD_KEY])
        for statement in _REBUILD:
            cursor.execute(statement, params if "%(" in statement else None)
        cursor.execute("SELECT count(*) FROM sla_slaticketsummary")
        return cursor.fetchone()[0]
