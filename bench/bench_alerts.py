"""Alerts and major-incident benchmarks (issue #14): `python bench/bench_alerts.py [--small]`.

On a database of its own (`servicedesk_bench_alerts`, `_quick` with --quick), migrated afresh
each run, with a small desk (a core system, its teams) and one Alertmanager integration whose
storm control is opened wide (the bench measures intake, not the bound):

(a) 1,000 alerts posted to the Alertmanager receiver over HTTP: gunicorn with 2 workers
    (gthread, 4 threads each) on a loopback port, 8 concurrent clients, Alertmanager's own
    payload (version 4) with a bearer token. Two shapes: deliveries of 10 alerts (a group, as
    Alertmanager batches them) and deliveries of one alert each. Alerts/s accepted (2xx), then
    every payload is delivered again (Alertmanager's repeat) and the bench checks that each
    alert has exactly one ticket and a count of 2. The intake reactions (classification,
    routing) wait in the intake queue for a worker, as in production; none runs here.
(b) A major incident with 5,000 linked tickets: linking them (one bulk call) and the recovery
    (the announcement, resolving every linked ticket through the state machine with its log
    entry, the after-commit reactions and one notification per requester), end to end.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

TOKEN = "bench-alerts-token"
FULL_ALERTS, QUICK_ALERTS = 1_000, 200
FULL_LINKED, QUICK_LINKED = 5_000, 500
CLIENTS = 8


def fresh_database(quick: bool) -> None:
    """Drop and re-create the bench database, then migrate it."""
    import subprocess

    import psycopg2

    name = common.bench_db_name(quick)
    # The server's maintenance database: DATABASE_URL's own may not exist yet.
    conn = psycopg2.connect(common.database_url("postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=common.ROOT,
        env=common.bench_env(quick),
        check=True,
    )


def small_desk():
    from django.contrib.auth.models import Group

    from accounts.choices import Role, Tier
    from accounts.models import Team, User
    from alerts.choices import IntegrationKind
    from alerts.models import MappingRule
    from alerts.services import integration_create
    from catalog.models import InformationSystem

    back = Team.objects.create(code="back-core", name="Core systems", tier=Tier.BACK)
    middle = Team.objects.create(
        code="middle", name="Experts", tier=Tier.MIDDLE, escalates_to=back, is_on_duty=True
    )
    Team.objects.create(code="front", name="Front", tier=Tier.FRONT, escalates_to=middle)
    system = InformationSystem.objects.create(
        code="trading", name="Trading", owner_team=back, is_core=True
    )
    integration, _token = integration_create(
        actor=None, name="Prometheus", kind=IntegrationKind.ALERTMANAGER, token=TOKEN,
        storm_threshold=1_000_000, tickets_per_minute=1_000_000,
    )  # fmt: skip
    MappingRule.objects.create(name="core", matchers=[["alertname", "=~", "Core.*"]], system=system)
    expert = User.objects.create(username="bench-expert")
    expert.groups.add(Group.objects.get(name=Role.MIDDLE_EXPERT))
    return integration, system, expert


def payload(alerts: list[dict]) -> bytes:
    return json.dumps(
        {
            "receiver": "desk",
            "status": "firing",
            "alerts": alerts,
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{alerts[0]["labels"]["alertname"]}"}}',
            "truncatedAlerts": 0,
        }
    ).encode()


def make_alerts(prefix: str, n: int) -> list[dict]:
    return [
        {
            "status": "firing",
            "labels": {
                "alertname": f"Core{prefix}{i // 10}" if i % 2 else f"Disk{prefix}{i // 10}",
                "instance": f"host{i:05d}:9100",
                "severity": "critical" if i % 2 else "warning",
            },
            "annotations": {"summary": f"alert {prefix}{i}"},
            "startsAt": "2026-12-06T10:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": f"{prefix}{i:08x}",
        }
        for i in range(n)
    ]


def post_all(
    port: int, bodies: list[bytes], *, path: str = "/api/integrations/alertmanager/"
) -> dict:
    """POST every body from CLIENTS threads (keep-alive connections); seconds and statuses.
    An empty body is a GET of `path` (the floor: what any request costs on this machine)."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    local = threading.local()

    def send(body: bytes) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        if body:
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
        else:
            conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        with lock:
            statuses[response.status] = statuses.get(response.status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, bodies))
    return {"seconds": time.perf_counter() - started, "statuses": statuses}


def bench_receiver(quick: bool, integration) -> dict:
    from bench_tickets import start_gunicorn

    from alerts.models import Alert
    from tickets.models import Ticket

    n = QUICK_ALERTS if quick else FULL_ALERTS
    port = common_free_port()
    server = start_gunicorn(quick, port, threads=4)
    results = {}
    try:
        floor = post_all(port, [b""] * n, path="/healthz")
        results["floor_healthz_per_s"] = round(n / floor["seconds"], 1)
        common.log(f"floor: {results['floor_healthz_per_s']} GET /healthz per s")
        for shape, per_delivery in (("groups_of_10", 10), ("one_per_delivery", 1)):
            alerts = make_alerts(shape[:1], n)
            bodies = [payload(alerts[i : i + per_delivery]) for i in range(0, n, per_delivery)]
            first = post_all(port, bodies)
            again = post_all(port, bodies)
            fingerprints = [a["fingerprint"] for a in alerts]
            stored = Alert.objects.filter(fingerprint__in=fingerprints)
            tickets = Ticket.objects.filter(alerts__fingerprint__in=fingerprints).distinct()
            results[shape] = {
                "alerts": n,
                "deliveries": len(bodies),
                "seconds": round(first["seconds"], 2),
                "alerts_per_s": round(n / first["seconds"], 1),
                "statuses": first["statuses"],
                "repeat_seconds": round(again["seconds"], 2),
                "repeat_alerts_per_s": round(n / again["seconds"], 1),
                "repeat_statuses": again["statuses"],
                "tickets": tickets.count(),
                "alerts_with_count_2": stored.filter(count=2).count(),
                "correct": tickets.count() == n and stored.filter(count=2).count() == n,
            }
            common.log(f"receiver {shape}: {results[shape]}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def common_free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_incident(quick: bool, system, expert) -> dict:
    from accounts.models import User
    from incidents import services
    from tickets import services as ticket_services
    from tickets.choices import Status
    from tickets.models import Ticket

    n = QUICK_LINKED if quick else FULL_LINKED
    requesters = [User.objects.create(username=f"bench-req-{i}") for i in range(200)]
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="requester")
    group.user_set.add(*requesters)
    started = time.perf_counter()
    ids = []
    for i in range(n):
        ticket, _created = ticket_services.ticket_create(
            requester=requesters[i % len(requesters)],
            created_by=None,
            title=f"Cannot place orders ({i})",
            system=system,
        )
        ids.append(ticket.pk)
    created_s = time.perf_counter() - started
    incident = services.incident_declare(
        actor=expert, title_zh="交易系统故障", title_en="Trading outage", systems=[system]
    )
    started = time.perf_counter()
    linked = services.incident_link_tickets(actor=expert, incident_id=incident.pk, ticket_ids=ids)
    link_s = time.perf_counter() - started
    services.incident_announce_outage(actor=expert, incident_id=incident.pk, title_en="Down")
    from django.db import transaction

    started, cpu_started = time.perf_counter(), time.process_time()
    with transaction.atomic():
        _published, resolved = services.incident_recover(
            actor=expert, incident_id=incident.pk, resolution="Fixed.", title_en="Recovered"
        )
        committed = time.perf_counter()
    # Leaving the block committed; the after-commit reactions (SLA timers, ...) ran in it.
    recover_s = time.perf_counter() - started
    recover_cpu_s = time.process_time() - cpu_started
    transaction_s = committed - started
    done = Ticket.objects.filter(pk__in=ids, status=Status.RESOLVED).count()
    return {
        "linked_tickets": len(linked),
        "create_s": round(created_s, 1),
        "link_s": round(link_s, 2),
        "recover_s": round(recover_s, 2),
        "recover_transaction_s": round(transaction_s, 2),
        "recover_reactions_s": round(recover_s - transaction_s, 2),
        "recover_python_cpu_s": round(recover_cpu_s, 2),
        "resolved": resolved,
        "correct": done == n == resolved,
    }


def main() -> None:
    args = common.parse_args(__doc__)
    args.quick = args.quick or "--small" in sys.argv  # --small: the same smoke sizes
    os.environ.setdefault(
        "BENCH_DB_NAME", "servicedesk_bench_alerts" + ("_quick" if args.quick else "")
    )
    fresh_database(args.quick)
    common.setup_django(args.quick)
    integration, system, expert = small_desk()
    # `--parts receiver,incident` (default both).
    parts = {"receiver", "incident"}
    if "--parts" in sys.argv[:-1]:
        parts = set(sys.argv[sys.argv.index("--parts") + 1].split(","))
    result = {"name": "alerts"}
    if "receiver" in parts:
        result["receiver"] = bench_receiver(args.quick, integration)
    if "incident" in parts:
        result["incident"] = bench_incident(args.quick, system, expert)
    common.emit(result)


if __name__ == "__main__":
    main()
