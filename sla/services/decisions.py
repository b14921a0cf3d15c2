"""The dashboard's record of decided clocks (`SlaDecision`) and its per-day sums
(`SlaComplianceDay`), kept identical to a recount from every timer row.

A clock counts once it is decided: a first-response or resolution timer met, or breached
(whatever it did after). It counts under its start day (the desk's time zone), its metric and
priority, and its ticket's current team and unit. `sla_decisions_refresh` brings the record of
some tickets in line with their timers and tickets and moves the per-day sums by the
difference; it runs in the transaction that changed them (the SLA reactions, the sweep), so
the sums never show a half-done change. Running it again changes nothing.

Locks: each ticket's refresh is serialised on an advisory lock of its own namespace (taken in
id order, after whatever else the transaction holds, so it adds no lock cycle), and every
refresh holds a shared lock that the rebuild takes exclusively (a refresh never computes its
difference against rows a rebuild is replacing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction

from ..choices import ESCALATING_METRICS, TimerState

_DECISIONS_NAMESPACE = 7_002  # per ticket: (namespace, ticket id); 0 is the rebuild's key
_REBUILD_KEY = 0

_LOCK = (
    "SELECT pg_advisory_xact_lock_shared(%s, %s), count(pg_advisory_xact_lock(%s, key)) FROM "
    "(SELECT DISTINCT (id %% 2147483647)::int + 1 AS key FROM unnest(%s::bigint[]) AS t(id) "
    "ORDER BY key) AS keys"
)

# What each decided clock of the tickets should count as ('w'), and what it counts as now ('h').
_READ = """
SELECT 'w', t.id, t.ticket_id, t.started_at, (t.started_at AT TIME ZONE %(zone)s)::date,
       t.metric, t.priority, k.team_id, k.unit_path, t.breached_at IS NOT NULL
FROM sla_slatimer t JOIN tickets_ticket k ON k.id = t.ticket_id
WHERE t.ticket_id = ANY(%(ids)s) AND t.metric = ANY(%(metrics)s)
  AND (t.state = %(met)s OR t.breached_at IS NOT NULL)
UNION ALL
SELECT 'h', timer_id, ticket_id, started_at, day, metric, priority, team_id, unit_path, breached
FROM sla_sladecision WHERE ticket_id = ANY(%(ids)s)
"""

_ADD_TO_DAYS = """
INSERT INTO sla_slacomplianceday (day, metric, priority, team_id, decided, breached)
VALUES {values}
ON CONFLICT (day, metric, priority, team_id) DO UPDATE
SET decided = sla_slacomplianceday.decided + EXCLUDED.decided,
    breached = sla_slacomplianceday.breached + EXCLUDED.breached
"""

_WRITE_DECISIONS = """
written AS (
INSERT INTO sla_sladecision (timer_id, ticket_id, started_at, day, metric, priority, team_id,
    unit_path, breached)
VALUES {values}
ON CONFLICT (timer_id) DO UPDATE
SET ticket_id = EXCLUDED.ticket_id, started_at = EXCLUDED.started_at, day = EXCLUDED.day,
    metric = EXCLUDED.metric, priority = EXCLUDED.priority, team_id = EXCLUDED.team_id,
    unit_path = EXCLUDED.unit_path, breached = EXCLUDED.breached
)
"""

_WITH = "WITH {ctes} "

# DELETE, not TRUNCATE: TRUNCATE's table lock would wait for a refresh that already read the
# table (its unlocked first read) and now waits for the rebuild's advisory lock, a deadlock
# PostgreSQL ends by aborting one of them. A rebuild is rare; deleting rows is slower, not wrong.
_REBUILD = [
    "DELETE FROM sla_sladecision",
    "DELETE FROM sla_slacomplianceday",
    """
    INSERT INTO sla_sladecision (timer_id, ticket_id, started_at, day, metric, priority, team_id,
        unit_path, breached)
    SELECT t.id, t.ticket_id, t.started_at, (t.started_at AT TIME ZONE %(zone)s)::date,
           t.metric, t.priority, k.team_id, k.unit_path, t.breached_at IS NOT NULL
    FROM sla_slatimer t JOIN tickets_ticket k ON k.id = t.ticket_id
    WHERE t.metric = ANY(%(metrics)s) AND (t.state = %(met)s OR t.breached_at IS NOT NULL)
    """,
    """
    INSERT INTO sla_slacomplianceday (day, metric, priority, team_id, decided, breached)
    SELECT day, metric, priority, team_id, count(*), count(*) FILTER (WHERE breached)
    FROM sla_sladecision GROUP BY day, metric, priority, team_id
    """,
]


def _params() -> dict:
    return {
        "zone": settings.TIME_ZONE,
        "metrics": [str(m) for m in ESCALATING_METRICS],
        "met": str(TimerState.MET),
    }


def _difference(cursor, ids: list[int]) -> tuple[list[tuple], list[tuple]]:
    """(the recorded rows that are no longer right, the rows as they should be now) for the
    decided clocks of these tickets."""
    cursor.execute(_READ, {**_params(), "ids": ids})
    wanted, had = {}, {}
    for source, *row in cursor.fetchall():
        (wanted if source == "w" else had)[row[0]] = tuple(row)
    gone = [row for pk, row in had.items() if wanted.get(pk) != row]
    new = [row for pk, row in wanted.items() if had.get(pk) != row]
    return gone, new


def sla_decisions_refresh(*, ticket_ids: Iterable[int]) -> None:
    """Bring the decided clocks of these tickets in line with their timers and tickets (a clock
    met, breached, reopened, re-prioritised; the ticket moved to another team), and move the
    per-day sums by the difference. One query when nothing changed, four otherwise.
    Idempotent; joins the caller's transaction (call it last there: it takes locks)."""
    ids = sorted({int(pk) for pk in ticket_ids})
    if not ids:
        return
    # No savepoint of its own (two more statements per reaction): it only writes after its
    # reads, and a failure rolls back the caller's transaction, as it should.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Most calls change nothing (a clock started, a hand-over before any clock is decided):
        # one read tells, without locks. A change read here without the lock is read again
        # under it: another refresh of these tickets may have committed meanwhile.
        gone, new = _difference(cursor, ids)
        if not gone and not new:
            return
        cursor.execute(_LOCK, [_DECISIONS_NAMESPACE, _REBUILD_KEY, _DECISIONS_NAMESPACE, ids])
        # A statement of its own after the locks: it sees what the previous holder committed.
        gone, new = _difference(cursor, ids)
        if not gone and not new:
            return
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for rows, sign in ((gone, -1), (new, 1)):
            for row in rows:
                totals = sums[(row[3], row[4], row[5], row[6])]
                totals[0] += sign
                totals[1] += sign * row[8]
        # Sorted, so two refreshes of the same days update the rows in the same order.
        changed = sorted(
            ((key, totals) for key, totals in sums.items() if totals != [0, 0]),
            key=lambda item: (item[0][0], item[0][1], item[0][2], item[0][3] or 0),
        )
        # One statement for every write: the clocks no longer decided go, the others are
        # written as they count now, the day sums move by the difference.
        parts, params = [], []
        rewritten = {row[0] for row in new}
        removed = [row[0] for row in gone if row[0] not in rewritten]
        if removed:
            parts.append("removed AS (DELETE FROM sla_sladecision WHERE timer_id = ANY(%s))")
            params.append(removed)
        if new:
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(new))
            parts.append(_WRITE_DECISIONS.format(values=values))
            params += [value for row in new for value in row]
        if changed:
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(changed))
            last = _ADD_TO_DAYS.format(values=values)
            params += [value for key, totals in changed for value in (*key, *totals)]
        else:
            last = "SELECT 1"
        cursor.execute(_WITH.format(ctes=", ".join(parts)) + last if parts else last, params)


def sla_decisions_rebuild() -> int:
    """Recount every decided clock from the timer rows (an existing desk, a changed time zone,
    after rows were changed behind the services' back). Waits for running refreshes and holds
    new ones until it commits; returns the number of decided clocks."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_DECISIONS_NAMESPACE, _REBUILD_KEY])
        for statement in _REBUILD:
            cursor.execute(statement, _params() if "%(" in statement else None)
        cursor.execute("SELECT count(*) FROM sla_sladecision")
        return cursor.fetchone()[0]
