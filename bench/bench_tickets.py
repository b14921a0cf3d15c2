"""Ticket core benchmarks (issue #3): `python bench/bench_tickets.py [--quick] [--runs N]
[--parts list,detail,drain,create] [--threads 4] [--clients 8] [--batch 100] [--without-worker]`.

On the database `bench/generate.py` filled (1,000,000 tickets, 3,000,000 events):

(a) an agent's filtered ticket list, 50 rows serialized the way the API lists them, first page
    and a deep page (keyset `id < cursor`, 20,000 rows deep): median / p90 ms and query count;
(b) one ticket's detail with its timeline and comments: median / p90 ms and query count;
(c) ticket creation through the API over HTTP: gunicorn with 2 workers (gthread, 4 threads
    each, as deployed) on a loopback port, POST /api/tickets/ with a requester's token from 8
    concurrent clients: tickets/s accepted. A Celery worker on the same two cores drains the
    intake queue (classification, routing, SLA start) meanwhile, as in production; the time
    until every new ticket is routed gives the end-to-end rate. `create_in_process` shows
    `services.ticket_create` with and without the reactions;
(d) the worker's CPU per new ticket: bursts of new tickets drained in process, `process_time`
    around each drained batch ÷ its tickets (`drain`, also run with `create`);
(e) the web process's CPU and queries per `POST /api/tickets/` through the whole WSGI stack
    (middleware, token, throttle, view, response), in process (`create_request`, with
    `create`; `bench/request_cost.py --profile` shows where it goes).

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import request_cost

FRONT_AGENT = "bench-front-1-front_tier1-01"
BACK_AGENT = "bench-back-1-back_engineer-01"
DEEP_ROWS = 20_000
PAGE = 50


# --- serialization as the API does it --------------------------------------------------------


def list_serializer():
    """The API's list serializer when the API exists; else None (a dict of the list columns)."""
    try:
        from tickets.api import serializers
    except ImportError:
        return None
    for name in ("TicketListSerializer", "TicketListOutputSerializer", "TicketSummarySerializer"):
        if hasattr(serializers, name):
            return getattr(serializers, name)
    return None


def detail_serializers():
    try:
        from tickets.api import serializers
    except ImportError:
        return None, None
    detail = next(
        (
            getattr(serializers, n)
            for n in ("TicketDetailSerializer", "TicketSerializer", "TicketOutputSerializer")
            if hasattr(serializers, n)
        ),
        None,
    )
    event = next(
        (
            getattr(serializers, n)
            for n in ("TicketEventSerializer", "EventSerializer", "TimelineEventSerializer")
            if hasattr(serializers, n)
        ),
        None,
    )
    return detail, event


def serializer_context(user) -> dict[str, Any]:
    from django.test import RequestFactory
    from rest_framework.request import Request

    request = Request(RequestFactory().get("/api/tickets/", HTTP_HOST="127.0.0.1"))
    request.user = user
    return {"request": request}


def row_dict(ticket) -> dict[str, Any]:
    """The list columns, when no API serializer exists yet."""
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "tier": ticket.tier,
        "team": ticket.team.name if ticket.team else None,
        "assignee": str(ticket.assignee) if ticket.assignee else None,
        "requester": str(ticket.requester),
        "unit": ticket.unit.name if ticket.unit else None,
        "request_type": ticket.request_type.code if ticket.request_type else None,
        "system": ticket.system.name if ticket.system else None,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
    }


# --- (a) the list -----------------------------------------------------------------------------


def bench_list(runs: int) -> dict[str, Any]:
    from accounts.models import User
    from tickets.selectors import TicketFilters, ticket_list

    serializer = list_serializer()
    results: dict[str, Any] = {
        "serializer": f"{serializer.__module__}.{serializer.__name__}" if serializer else "dict"
    }
    p2_p3 = TicketFilters(priority=["P2", "P3"])
    cases = [
        ("front_agent_open_queue", FRONT_AGENT, TicketFilters(open_only=True), False),
        ("front_agent_priority_first_page", FRONT_AGENT, p2_p3, False),
        ("front_agent_priority_deep_page", FRONT_AGENT, p2_p3, True),
        ("back_agent_open_queue", BACK_AGENT, TicketFilters(open_only=True), False),
        ("back_agent_all_deep_page", BACK_AGENT, TicketFilters(), True),
    ]
    for name, username, filters, deep in cases:
        viewer = User.objects.get(username=username)
        context = serializer_context(viewer)
        cursor = None
        if deep:
            ids = ticket_list(viewer=viewer, filters=filters).values_list("id", flat=True)
            # 20,000 rows deep; half-way down on a small (--quick) database.
            cursor = ids[min(DEEP_ROWS, ids.count() // 2)]

        def fetch(viewer=viewer, filters=filters, cursor=cursor):
            # A fresh viewer object per call, as per request: no cached team ids or perms.
            fresh = User.objects.get(pk=viewer.pk)
            queryset = ticket_list(viewer=fresh, filters=filters)
            if cursor is not None:
                queryset = queryset.filter(id__lt=cursor)
            return list(queryset[:PAGE])

        def page(fetch=fetch, context=context):
            rows = fetch()
            if serializer is not None:
                data = serializer(rows, many=True, context=context).data
            else:
                data = [row_dict(t) for t in rows]
            json.dumps(data, default=str)
            return len(rows)

        rows = page()
        results[name] = {
            **common.time_calls(page, runs=runs),
            "queries": common.count_queries(page),
            "rows": rows,
            # The selector alone (the rows, no serialization): what the ticket core costs.
            "select_only": common.time_calls(fetch, runs=runs),
            **({"cursor": cursor} if cursor else {}),
        }
        common.log(f"list {name}: {results[name]}")
    return results


# --- (b) detail + timeline ---------------------------------------------------------------------


def bench_detail(runs: int) -> dict[str, Any]:
    from accounts.models import User
    from tickets.selectors import (
        TicketFilters,
        ticket_comments,
        ticket_get,
        ticket_list,
        ticket_timeline,
    )

    detail_serializer, event_serializer = detail_serializers()
    viewer = User.objects.get(username=FRONT_AGENT)
    context = serializer_context(viewer)
    sample = list(
        ticket_list(viewer=viewer, filters=TicketFilters()).values_list("id", flat=True)[:2000:100]
    )

    def detail(state={"i": 0}):  # noqa: B006 (a counter across calls)
        ticket_id = sample[state["i"] % len(sample)]
        state["i"] += 1
        fresh = User.objects.get(pk=viewer.pk)
        ticket = ticket_get(viewer=fresh, ticket_id=ticket_id)
        events = list(ticket_timeline(viewer=fresh, ticket=ticket))
        comments = list(ticket_comments(viewer=fresh, ticket=ticket))
        if detail_serializer is not None:
            data = detail_serializer(ticket, context=context).data
        else:
            data = row_dict(ticket)
        if event_serializer is not None:
            timeline = event_serializer(events, many=True, context=context).data
        else:
            timeline = [
                {
                    "kind": e.kind,
                    "actor": str(e.actor) if e.actor else None,
                    "actor_kind": e.actor_kind,
                    "field": e.field,
                    "old": e.old_value,
                    "new": e.new_value,
                    "message": e.message,
                    "at": e.created_at.isoformat(),
                }
                for e in events
            ]
        body = [{"id": c.pk, "author": str(c.author), "body": c.body} for c in comments]
        json.dumps({"ticket": data, "timeline": timeline, "comments": body}, default=str)

    result = {
        **common.time_calls(detail, runs=runs),
        "queries": common.count_queries(detail),
        "serializer": (
            f"{detail_serializer.__module__}.{detail_serializer.__name__}"
            if detail_serializer
            else "dict"
        ),
        "tickets_sampled": len(sample),
    }
    common.log(f"detail: {result}")
    return result


# --- (c) creation over HTTP ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_exists() -> bool:
    from django.urls import Resolver404, resolve

    try:
        match = resolve("/api/tickets/")
    except Resolver404:
        return False
    return match is not None


def start_gunicorn(quick: bool, port: int, threads: int) -> subprocess.Popen:
    env = common.bench_env(quick)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "servicedesk.settings.production",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
        }
    )
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # The server's log goes to a file: an unread pipe would block it once full.
    log_path = Path(tempfile.gettempdir()) / f"bench-gunicorn-{port}.log"
    log_file = log_path.open("w")
    process = subprocess.Popen(
        [
            gunicorn,
            "servicedesk.wsgi",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=common.ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    process.log_path = log_path
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/tickets/")
            conn.getresponse().read()
            conn.close()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


def start_worker(quick: bool) -> subprocess.Popen:
    env = common.bench_env(quick)
    env["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings.local"
    log_path = Path(tempfile.gettempdir()) / "bench-worker.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "--concurrency=1",
            "--loglevel=WARNING",
            "-n",
            "bench@%h",
        ],
        cwd=common.ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    return process


def wait_until_routed(last_id: int, started: float, timeout: float = 600) -> float:
    """Seconds from the first request until the worker has handled every new ticket: the
    intake queue released it, so its whole chain ran (classified, routed or sent to manual
    triage, assigned, clocks started, receipt stored)."""
    from django.db import connection

    from tickets.models import Ticket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = Ticket.objects.filter(id__gt=last_id, intake_due_at__isnull=False)
        if not waiting.exists():
            connection.close()
            return round(time.perf_counter() - started, 2)
        time.sleep(0.2)
    raise RuntimeError("the worker did not route the new tickets in time")


def post_tickets(port: int, token: str, count: int, clients: int) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(count))

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            body = json.dumps(
                {
                    "title": f"VPN cannot connect from home ({index}-{n})",
                    "description": "Since this morning the VPN client says the certificate "
                    "expired. 从今天早上开始 VPN 提示证书过期。",
                }
            )
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/tickets/", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                status, payload = 0, str(exc).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(elapsed)
                if status != 201 and len(errors) < 5:
                    errors.append(f"{status}: {payload[:300]!r}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    created = statuses.get(201, 0)
    return {
        "requests": count,
        "clients": clients,
        "created": created,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(wall, 2),
        "tickets_per_s": round(created / wall, 1),
        "latency_median_ms": round(statistics.median(latencies), 1),
        "latency_p90_ms": round(latencies[int(len(latencies) * 0.9)], 1),
        **({"errors": errors} if errors else {}),
    }


def bench_create_in_process(runs: int) -> dict[str, Any]:
    """Where creation time goes, in process: `services.ticket_create` alone (no reactions), as
    deployed (the intake reactions queued for the worker), and with the reactions (routing, SLA
    timers) run in the request as they were before the intake queue."""
    from unittest import mock

    from accounts.models import User
    from tickets import reactions, services, wiring

    requester = User.objects.get(username="bench-user-2")
    counter = iter(range(10**9))

    def create():
        services.ticket_create(
            requester=requester,
            title=f"Outlook keeps asking for the password ({next(counter)})",
            description="Since the update this morning.",
            created_by=requester,
            channel="api",
        )

    def measure() -> dict[str, Any]:
        return {**common.time_calls(create, runs=runs), "queries": common.count_queries(create)}

    # No reaction at all: the wiring's loaded chains replaced by empty ones for the duration.
    empty = {event: [] for event in wiring.EVENTS}
    with reactions.inline(), mock.patch.object(wiring, "_chains", empty):
        alone = measure()
    queued = measure()
    with reactions.inline():
        in_request = measure()
    result = {
        "ticket_create_only": alone,
        "queued_for_the_worker": queued,
        "reactions_in_the_request": {
            **in_request,
            "reactions": reactions.registered()[reactions.TICKET_CREATED],
        },
    }
    common.log(f"create in process: {result}")
    return result


INTAKE_TEXTS = (
    ("VPN cannot connect from home", "The client says the certificate expired."),
    ("打印机卡纸了，无法打印", "三楼的打印机从早上开始一直卡纸。"),
    ("Please install Visio on my laptop", "I need it for the network diagrams."),
    ("交易系统报错 500", "下单时页面提示服务器错误。"),
    ("Outlook keeps asking for the password", "Since the update this morning."),
    ("New employee needs an account", "Starts on Monday in accounting."),
)


def bench_drain(runs: int, batch: int) -> dict[str, Any]:
    """The worker's cost per new ticket (issue #18 item 5): `runs` bursts of `batch` tickets
    taken in with their reactions queued (as deployed), each drained in process as the worker
    does; CPU (`process_time`) and wall time around each drained batch ÷ its tickets, and
    the queries of a batch. One untimed burst first (model files, imports, caches)."""
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from catalog.models import RequestType
    from tickets import intake, services
    from tickets.models import Ticket

    requester = User.objects.get(username="bench-user-2")
    # Every other ticket says what it is (a type chosen on the portal's form): it is routed to
    # a team and assigned, the others go where the desk's models send them.
    types = list(RequestType.objects.filter(is_active=True).order_by("code"))
    intake.drain(seconds=3600)  # whatever earlier parts left waiting, untimed
    first_id = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    cpu, wall, queries = [], [], []
    for run in range(runs + 1):
        for n in range(batch):
            title, description = INTAKE_TEXTS[n % len(INTAKE_TEXTS)]
            services.ticket_create(
                requester=requester,
                title=f"{title} ({run}-{n})",
                description=description,
                created_by=requester,
                channel="api",
                request_type=types[(n // 2) % len(types)] if n % 2 and types else None,
            )
        with CaptureQueriesContext(connection) as ctx:
            started, started_cpu = time.perf_counter(), time.process_time()
            done = intake.drain(batch=batch, seconds=3600)
            used_cpu, used = time.process_time() - started_cpu, time.perf_counter() - started
        if run and done:
            cpu.append(used_cpu * 1000 / done)
            wall.append(used * 1000 / done)
            queries.append(len(ctx))
    result = {
        "batch": batch,
        "runs": runs,
        "cpu_ms_per_ticket_median": round(statistics.median(cpu), 2),
        "cpu_ms_per_ticket_min": round(min(cpu), 2),
        "wall_ms_per_ticket_median": round(statistics.median(wall), 2),
        "queries_per_batch": sorted(set(queries)),
        "outcome": {
            f"{status}{' (triage)' if triage else ''}": count
            for status, triage, count in Ticket.objects.filter(id__gt=first_id)
            .values_list("status", "needs_triage")
            .annotate(count=Count("id"))
            .order_by("status")
        },
    }
    common.log(f"drain: {result}")
    return result


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its living children, from /proc."""
    total, pending = 0.0, [pid]
    ticks = os.sysconf("SC_CLK_TCK")
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def bench_create(quick: bool, threads: int, clients: int, with_worker: bool) -> dict[str, Any]:
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from tickets import intake
    from tickets.models import Ticket

    if not api_exists():
        return {"skipped": "POST /api/tickets/ does not exist yet"}
    # Tickets left waiting by earlier parts or runs (the in-process creations, a run
    # `--without-worker`) are handled here, untimed: the worker then drains only this run's.
    leftover = intake.drain(seconds=3600)
    requester = User.objects.filter(username="bench-user-1").get()
    token, _ = Token.objects.get_or_create(user=requester)
    before = Ticket.objects.count() if quick else None
    last_id = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    connection.close()  # gunicorn's workers need no competition from an idle connection
    port = free_port()
    process = start_gunicorn(quick, port, threads)
    # Intake reactions (classification, routing, SLA start) run in a Celery worker: one runs
    # beside the server on the same two cores, so its work is part of the measurement.
    # With `--without-worker` the web tier is measured alone, as when the workers run on other
    # machines; the new tickets then wait in the intake queue for the next worker.
    worker = start_worker(quick) if with_worker else None
    try:
        # Warm up both workers (imports, connections, the classifier model) untimed.
        post_tickets(port, token.key, 20, 2)
        if worker is not None:
            warm_id = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
            wait_until_routed(last_id, time.perf_counter())
            last_id, worker_cpu = warm_id, process_tree_cpu(worker.pid)
        web_cpu = process_tree_cpu(process.pid)
        started = time.perf_counter()
        result = post_tickets(port, token.key, 200 if quick else 2000, clients)
        # The web tier's whole CPU (gunicorn's workers) per request: far steadier than the
        # rate on a shared machine, and comparable between runs at different loads.
        result["web_cpu_ms_per_request"] = round(
            (process_tree_cpu(process.pid) - web_cpu) * 1000 / max(result["requests"], 1), 2
        )
        if worker is not None:
            result["all_routed_seconds"] = wait_until_routed(last_id, started)
            result["end_to_end_tickets_per_s"] = round(
                result["created"] / result["all_routed_seconds"], 1
            )
            # The worker's whole CPU (drains, Celery itself) per ticket taken in.
            result["worker_cpu_ms_per_ticket"] = round(
                (process_tree_cpu(worker.pid) - worker_cpu) * 1000 / max(result["created"], 1), 2
            )
    finally:
        for child in filter(None, (process, worker)):
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
    if result.get("errors"):
        result["server_log_tail"] = process.log_path.read_text(errors="replace")[-1500:]
    process.log_path.unlink(missing_ok=True)
    result["leftover_drained_first"] = leftover
    if quick:
        result["rows_added"] = Ticket.objects.count() - before
    result["server"] = (
        f"gunicorn, 2 workers x {threads} threads (gthread), settings.production; "
        + ("1 Celery worker for the intake reactions" if worker else "no Celery worker")
    )
    common.log(f"create: {result}")
    return result


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[0])
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", default="list,detail,create", help="which measurements")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--batch", type=int, default=100, help="tickets per drained batch")
    parser.add_argument(
        "--without-worker", action="store_true", help="measure the web tier alone (no Celery)"
    )
    options = parser.parse_known_args()[0]
    parts = set(options.parts.split(","))
    common.setup_django(args.quick)
    from django.db import connection

    runs = args.runs or (20 if args.quick else 50)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM tickets_ticket")
        (tickets,) = cur.fetchone()
        cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'tickets_ticketevent'")
        (events,) = cur.fetchone()
    result: dict[str, Any] = {
        "name": "tickets",
        "database": connection.settings_dict["NAME"],
        "tickets": tickets,
        "events_estimate": events,
        "runs": runs,
    }
    if "list" in parts:
        result["list"] = bench_list(runs)
    if "detail" in parts:
        result["detail"] = bench_detail(runs)
    if "drain" in parts or "create" in parts:
        result["drain"] = bench_drain(min(runs, 10), options.batch)
    if "create" in parts:
        result["create_in_process"] = bench_create_in_process(runs)
        request = request_cost.measure(10 * runs)
        request.pop("queries")
        result["create_request"] = request
        common.log(f"create request: {request}")
        try:
            result["create_http"] = bench_create(
                args.quick, options.threads, options.clients, not options.without_worker
            )
        except Exception as exc:  # reported, not fatal: the in-process numbers still count
            result["create_http"] = {"error": f"{type(exc).__name__}: {exc}"}
    common.emit(result)


if __name__ == "__main__":
    main()
