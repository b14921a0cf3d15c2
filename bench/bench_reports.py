"""Report pages at scale (issue #16): `python bench/bench_reports.py [--quick|--small] [--runs N]
[--rebuild]`.

On the database `bench/generate.py` filled (1,000,000 tickets; 20,000 with --quick / --small):

1. builds the reports' read model (facts and daily rollups) from scratch when it is missing
   or stale (or with --rebuild), and times that full build;
2. renders every report page in process with Django's test client for the default period (the
   last 30 days), as the administrator (the whole desk) and as a company manager (one unit
   subtree): median / p90 ms and the query count of each page (budget 200 ms median);
   and the same for the first view after a refresh (`cold`: the pages computed from the
   read model are cached per refresh generation, see reports/views.py);
3. measures what rollup maintenance adds to a ticket action: 500 tickets get a new log entry,
   then one incremental refresh brings their facts and days up to date; its time divided by
   500 is the cost per action (budget 2 ms).

Prints one JSON object on its last line.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

ADMIN = "bench-admin"
MANAGER = "bench-manager-1"
BUDGET_MS = 200
ACTION_BUDGET_MS = 2.0
CHANGED = 500
PAGES = [
    "",
    "sla/",
    "times/",
    "backlog/",
    "risk/",
    "resolution/",
    "satisfaction/",
    "systems/",
    "problems/",
    "spikes/",
]


def _cold(get, *, runs: int) -> dict:
    """The first view of a page after a refresh: a new generation before each timed call, so
    the page computes everything from the rollups again (reports.views.CACHED_PAGES)."""
    import statistics
    import uuid

    from reports.models import RollupState

    walls, cpus = [], []
    for _ in range(runs):
        RollupState.objects.filter(key="rollup").update(generation=uuid.uuid4())
        start, start_cpu = time.perf_counter(), time.process_time()
        get()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - start_cpu) * 1000)
    return {
        "median_ms": round(statistics.median(walls), 2),
        "min_ms": round(min(walls), 2),
        "python_cpu_median_ms": round(statistics.median(cpus), 2),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--small" in argv:
        argv = [a if a != "--small" else "--quick" for a in argv]
    args = common.parse_args(__doc__.splitlines()[0], argv)
    common.setup_django(args.quick)
    from django.test import Client

    from accounts.models import User
    from reports.models import TicketFact
    from reports.rollups import rollup_refresh
    from tickets.choices import ActorKind
    from tickets.models import Ticket, TicketEvent

    runs = args.runs or (10 if args.quick else 20)
    total = Ticket.objects.count()
    result: dict = {"name": "reports", "tickets": total, "budget_ms": BUDGET_MS}

    if "--rebuild" in argv or TicketFact.objects.count() != total:
        start = time.perf_counter()
        built = rollup_refresh(full=True)
        result["full_build_s"] = round(time.perf_counter() - start, 1)
        common.log(f"full build of {built.tickets} facts: {result['full_build_s']} s")
    rollup_refresh()  # catch up with anything logged since

    for who in (ADMIN, MANAGER):
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=who))
        for page in PAGES:
            url = f"/workspace/reports/{page}"

            def get(url=url, client=client):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response

            timing = common.time_calls(get, runs=runs)
            queries = common.count_queries(get)
            cold = _cold(get, runs=max(3, runs // 2))
            key = f"{'admin' if who == ADMIN else 'manager'}:{page.rstrip('/') or 'home'}"
            common.log(
                f"{key}: {timing['median_ms']} ms median "
                f"({timing['python_cpu_median_ms']} ms Python CPU), {queries} queries; "
                f"first view after a refresh: {cold['median_ms']} ms median "
                f"({cold['python_cpu_median_ms']} ms Python CPU, min {cold['min_ms']} ms)"
            )
            result[key] = {**timing, "queries": queries, "cold": cold}

    # Rollup maintenance per ticket action: log one entry on CHANGED tickets, refresh once.
    ids = list(Ticket.objects.order_by("-id").values_list("id", flat=True)[:CHANGED])
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=i, kind="ticket.note_added", actor_kind=ActorKind.SYSTEM, is_public=False
        )
        for i in ids
    )
    start = time.perf_counter()
    refreshed = rollup_refresh()
    elapsed_ms = (time.perf_counter() - start) * 1000
    result["refresh"] = {
        "tickets": refreshed.tickets,
        "days": refreshed.days,
        "ms": round(elapsed_ms, 1),
        "ms_per_action": round(elapsed_ms / max(refreshed.tickets, 1), 3),
    }
    common.log(f"incremental refresh: {result['refresh']}")
    pages = [v for v in result.values() if isinstance(v, dict) and "median_ms" in v]
    result["max_median_ms"] = max(v["median_ms"] for v in pages)
    result["within_budget"] = (
        result["max_median_ms"] <= BUDGET_MS
        and result["refresh"]["ms_per_action"] <= ACTION_BUDGET_MS
    )
    common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
