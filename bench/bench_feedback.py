"""The closing loop and the catalogue at scale (issue #15):
`python bench/bench_feedback.py [--small | --quick] [--runs N]`.

Works on a database of its own (`sd_feedback_bench`, `sd_feedback_bench_small` with
`--small`/`--quick`; BENCH_DB_NAME overrides), created, migrated and filled here once: a desk of
1,000,000 tickets (20,000 small), 90 % closed over the last 365 days across 10 teams and 100
agents, 1 in 40 a complaint, 1 in 50 P1, a fifth rated; and a catalogue of 200 services in 10
groups with 8 fields each. Measures:

- `catalogue_page`: the requester's catalogue page (200 services), whole request in process;
- `service_form`: one service's form page;
- `sample_month`: the return-visit sampling of last month plus the weekly inspection samples of
  its weeks (the beat jobs' work for a month), each run rolled back so every run does it all.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

PAGE_BUDGET_MS = 50
SAMPLING_BUDGET_S = 5
SERVICES = 200
FIELDS_PER_SERVICE = 8


def _database(small: bool) -> str:
    name = os.environ.get("BENCH_DB_NAME") or (
        "sd_feedback_bench_small" if small else "sd_feedback_bench"
    )
    os.environ["BENCH_DB_NAME"] = name
    return name


def _create_and_migrate(small: bool, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(common.server_url())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    subprocess.run(
        [sys.executable, str(common.ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=common.ROOT,
        env=common.bench_env(small),
        check=True,
    )


_TICKETS_SQL = """
INSERT INTO tickets_ticket
    (number, title, description, unit_path, channel, impact, urgency, priority, tier, status,
     pending_reason, needs_triage, resolution, created_at, updated_at, closed_at, reopen_count,
     external_source, external_ref, requester_id, team_id, assignee_id, request_type_id)
SELECT 'FB-' || g, 'Bench ticket ' || g, '', '', 'portal', 3, 3,
       CASE WHEN g %% 50 = 0 THEN 'P1' ELSE 'P3' END, 'front',
       CASE WHEN g %% 10 = 0 THEN 'in_progress' ELSE 'closed' END,
       '', false, '', t.closed - interval '1 day', t.closed,
       CASE WHEN g %% 10 = 0 THEN NULL ELSE t.closed END, 0, 'bench-feedback', '',
       %(requester)s, (%(teams)s)[1 + g %% 10], (%(agents)s)[1 + g %% 100],
       CASE WHEN g %% 40 = 0 THEN %(complaint)s ELSE %(consultation)s END
FROM generate_series(1, %(count)s) AS g,
     LATERAL (SELECT now() - (g %% 365) * interval '1 day' - (g %% 1440) * interval '1 minute'
              AS closed) AS t
"""

_RATINGS_SQL = """
INSERT INTO feedback_rating (ticket_id, rated_by_id, score, comment, reasons, via_link, created_at)
SELECT id, requester_id, 1 + (id %% 5), '', '[]', true, closed_at
FROM tickets_ticket WHERE status = 'closed' AND external_source = 'bench-feedback' AND id %% 5 = 0
ON CONFLICT DO NOTHING
"""


def _fill(count: int) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from accounts.models import Team, User
    from catalog.models import RequestType
    from servicecatalog.models import Service, ServiceField, ServiceGroup
    from tickets.models import Ticket

    with transaction.atomic():
        requester, _ = User.objects.get_or_create(username="bench-fb-requester")
        requester.groups.add(Group.objects.get(name="requester"))
        teams = [
            Team.objects.get_or_create(
                code=f"bench-fb-{i}", defaults={"name": f"Bench team {i}", "tier": "front"}
            )[0].pk
            for i in range(10)
        ]
        agents = [
            User.objects.get_or_create(username=f"bench-fb-agent-{i:03d}")[0].pk for i in range(100)
        ]
        if Ticket.objects.filter(external_source="bench-feedback").count() < count:
            common.log(f"inserting {count:,} tickets …")
            started = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO off")
                cursor.execute(
                    _TICKETS_SQL,
                    {
                        "count": count,
                        "requester": requester.pk,
                        "teams": teams,
                        "agents": agents,
                        "complaint": RequestType.objects.get(code="complaint").pk,
                        "consultation": RequestType.objects.get(code="consultation").pk,
                    },
                )
                cursor.execute(_RATINGS_SQL, {})
                cursor.execute("ANALYZE tickets_ticket")
            common.log(f"tickets in {time.monotonic() - started:.1f}s")
        consultation = RequestType.objects.get(code="consultation")
        for g in range(10):
            group, _ = ServiceGroup.objects.get_or_create(
                code=f"bench-group-{g}", defaults={"name": f"Group {g}", "name_zh": f"分组 {g}"}
            )
            for s in range(SERVICES // 10):
                code = f"bench-svc-{g}-{s:02d}"
                service, created = Service.objects.get_or_create(
                    code=code,
                    defaults={
                        "group": group,
                        "name": f"Service {g}-{s}",
                        "name_zh": f"服务 {g}-{s}",
                        "description": "A benchmark service with a form of eight fields.",
                        "request_type": consultation,
                    },
                )
                if created:
                    kinds = ["text", "long_text", "choice", "multi_choice", "date", "user"]
                    kinds += ["system", "file"]
                    ServiceField.objects.bulk_create(
                        ServiceField(
                            service=service,
                            key=f"f{i}",
                            name=f"Field {i}",
                            name_zh=f"字段 {i}",
                            kind=kind,
                            required=i % 2 == 0,
                            choices="a|A|甲\nb|B|乙\nc|C|丙",
                            show_if="f2" if i == 7 else "",
                            show_if_value="b" if i == 7 else "",
                            position=i,
                        )
                        for i, kind in enumerate(kinds)
                    )


def _sample_month():
    """Last month's return-visit sample and its weeks' inspection samples, rolled back."""
    from django.db import transaction
    from django.utils import timezone

    from feedback import services
    from feedback.services.inspections import monday_of

    today = timezone.localdate()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    end = today.replace(day=1)
    tz = timezone.get_current_timezone()
    counts = {}
    with transaction.atomic():
        counts["visits"] = services.return_visits_sample(
            start=datetime.combine(first, datetime.min.time(), tzinfo=tz),
            end=datetime.combine(end, datetime.min.time(), tzinfo=tz),
            period=f"bench-{first}",
        )
        counts["inspections"] = 0
        week = monday_of(first)
        while week < end:
            counts["inspections"] += services.inspection_sample_week(week=week)
            week += timedelta(days=7)
        transaction.set_rollback(True)
    return counts


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = common.parse_args(__doc__.splitlines()[0], argv)
    small = args.quick or "--small" in argv
    name = _database(small)
    count = common.QUICK_TICKETS if small else common.FULL_TICKETS
    _create_and_migrate(small, name)
    common.setup_django(small)
    from django.test import Client

    from accounts.models import User
    from tickets.models import Ticket

    _fill(count)
    runs = args.runs or (10 if small else 30)
    requester = User.objects.get(username="bench-fb-requester")
    client = Client(HTTP_HOST="localhost")
    client.force_login(requester)
    result: dict = {
        "name": "feedback",
        "database": name,
        "tickets": Ticket.objects.count(),
        "page_budget_ms": PAGE_BUDGET_MS,
        "sampling_budget_s": SAMPLING_BUDGET_S,
    }
    pages = {"catalogue_page": "/catalogue/", "service_form": "/catalogue/s/bench-svc-3-07/"}
    for key, url in pages.items():

        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        services_shown = get().content.count(b'data-testid="service-bench-svc')
        timing = common.time_calls(get, runs=runs)
        queries = common.count_queries(get)
        common.log(f"{key}: {timing['median_ms']} ms median, {queries} queries")
        result[key] = {**timing, "queries": queries, "services_shown": services_shown}
    sampling_runs = max(3, runs // 10)
    counts = _sample_month()
    timing = common.time_calls(_sample_month, runs=sampling_runs, warmup=1)
    common.log(f"sample_month: {timing['median_ms']} ms median, {counts}")
    result["sample_month"] = {**timing, **counts}
    result["within_budget"] = (
        max(result["catalogue_page"]["median_ms"], result["service_form"]["median_ms"])
        <= PAGE_BUDGET_MS
        and timing["median_ms"] <= SAMPLING_BUDGET_S * 1000
    )
    common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
