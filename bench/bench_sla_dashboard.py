"""The SLA dashboard at scale (issue #19 item 4): `python bench/bench_sla_dashboard.py [--runs N]`.

Renders `/workspace/dashboard/` in process (the whole response) for the administrator and a
unit manager, for periods of 7, 30 and 365 days ending today. The generated desk has no SLA
timers: on a copy without any, the bench first adds one resolution timer per ticket (one
INSERT … SELECT, 30 % running — their tickets opened, as a running clock's ticket is —, 8 %
breached, 14 % warned; docs/benchmarks.md item 4) and
builds the dashboard's two records for them as the product would (`sla_decisions_rebuild`
and `sla_summary_rebuild`, what `manage.py sla_rebuild_rollup` runs: the decided clocks, and
the summary of flagged open tickets the breached / at-risk lists read), not timed. Median /
min ms, this process's CPU ms and the query count of each page, and each part's database time
(compliance counts, lists, the rest; the fastest run). Prints one JSON object on its last line.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

VIEWERS = {"admin": "bench-admin", "manager": "bench-manager-1"}
PERIODS = (7, 30, 365)
BUDGET_MS = 100

# One resolution timer per generated ticket, started at its creation; by ticket id: 30 %
# running, 14 % warned, 8 % breached (of which the running ones stay flagged), the rest met.
TIMERS_SQL = """
INSERT INTO sla_slatimer (metric, priority, target, warn_at_percent, state, used, started_at,
  segment_started_at, due_at, warn_at, paused_at, warned_at, breached_at, met_at, stopped_at,
  escalation_level, next_escalation_at, updated_at, calendar_id, policy_id, ticket_id)
SELECT 'resolution', t.priority, interval '8 hours', 75,
  CASE WHEN t.id % 10 < 3 THEN 'running' ELSE 'met' END, interval '0', t.created_at,
  t.created_at, t.created_at + interval '8 hours', t.created_at + interval '6 hours', NULL,
  CASE WHEN t.id % 100 < 14 THEN t.created_at + interval '6 hours' END,
  CASE WHEN t.id % 100 < 8 THEN t.created_at + interval '8 hours' END,
  CASE WHEN t.id % 10 >= 3 THEN t.created_at + interval '5 hours' END, NULL, 0, NULL, now(),
  (SELECT min(id) FROM sla_businesscalendarconfig), NULL, t.id
FROM tickets_ticket t
"""


# A running clock belongs to an open ticket (closing stops it): the generated desk has ~41,000
# open tickets, so the tickets that get a running timer (30 %) are opened on the bench's copy,
# which makes it the desk of 300,000 running timers on 300,000 open tickets.
OPEN_SQL = """
UPDATE tickets_ticket SET
  status = CASE WHEN id % 20 = 0 THEN 'queued' ELSE 'in_progress' END,
  resolved_at = NULL, closed_at = NULL
WHERE id % 10 < 3 AND status NOT IN ('new', 'queued', 'in_progress', 'pending')
"""


def _part(sql: str) -> str:
    """Which part of the page a query is: the compliance counts, the breached / at-risk lists,
    or the rest (session, user, permissions, team names, OLA per tier, badges)."""
    if "sla_slacomplianceday" in sql or "sla_sladecision" in sql:
        return "compliance"
    if "sla_slaticketsummary" in sql or "BOOL_OR" in sql:
        return "lists"  # the summary of flagged tickets (before it: the clocks aggregated)
    if '"sla_slatimer"."priority"' in sql and "COUNT(" in sql:
        return "compliance"  # before the record: the timers of the period, grouped
    return "rest"


def ensure_timers() -> None:
    """Give the bench copy its timers and the dashboard's records of them, once (and the
    summary of flagged tickets to a copy that has timers but none: made before it existed)."""
    from django.db import connection

    from sla.models import SlaTicketSummary, SlaTimer
    from sla.services import sla_decisions_rebuild, sla_summary_rebuild

    if SlaTimer.objects.exists():
        if not SlaTicketSummary.objects.exists():
            common.log(f"summary rebuilt: {sla_summary_rebuild()} flagged open tickets")
        return

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(OPEN_SQL)
        cursor.execute(TIMERS_SQL)
    decided = sla_decisions_rebuild()
    flagged = sla_summary_rebuild()
    tables = ("tickets_ticket", "sla_slatimer", "sla_sladecision", "sla_slacomplianceday")
    with connection.cursor() as cursor:
        for table in (*tables, "sla_slaticketsummary"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    elapsed = time.perf_counter() - started
    common.log(f"timers added, {decided} decided, {flagged} flagged open, in {elapsed:.1f} s")


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(__doc__.splitlines()[0], argv)
    common.setup_django(args.quick)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from sla.models import SlaTimer

    ensure_timers()
    runs = args.runs or (5 if args.quick else 15)
    today = timezone.localdate()
    result: dict = {"name": "sla_dashboard", "timers": SlaTimer.objects.count()}
    result["running_timers"] = SlaTimer.objects.filter(state="running").count()
    for who, username in VIEWERS.items():
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username))
        for days in PERIODS:
            start = today - timedelta(days=days - 1)
            url = f"/workspace/dashboard/?date_from={start}&date_to={today}"

            parts: dict[str, list[float]] = {}

            def get(url=url, client=client, parts=parts):
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                run: dict[str, float] = {}
                for query in captured.captured_queries:
                    part = _part(query["sql"])
                    run[part] = run.get(part, 0.0) + float(query["time"]) * 1000
                for part, ms in run.items():
                    parts.setdefault(part, []).append(ms)
                return response

            timing = common.time_calls(get, runs=runs, warmup=1)
            queries = common.count_queries(get)
            key = f"{who}_{days}d"
            # Each part's database time, the fastest of the runs: steadier than the wall clock
            # on a loaded machine.
            db_min = {part: round(min(times), 1) for part, times in parts.items()}
            common.log(f"{key}: {timing['median_ms']} ms median, {queries} queries, db {db_min}")
            result[key] = {**timing, "queries": queries, "db_ms_min": db_min}
    medians = [v["median_ms"] for v in result.values() if isinstance(v, dict)]
    result["max_median_ms"] = max(medians)
    result["within_budget"] = result["max_median_ms"] <= BUDGET_MS
    common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
