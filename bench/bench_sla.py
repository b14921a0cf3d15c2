"""SLA engine benchmarks (issue #6): `python bench/bench_sla.py [--quick] [--runs N]`.

On the database `bench/generate.py` filled (1,000,000 tickets):

(a) SLA timers for 300,000 tickets (first response, met where the ticket has a first response,
    and resolution: ~500,000 running timers in the sweep's partial indexes), generated once
    with set-based SQL. The generated desk has
    fewer open tickets than that (most are closed), so the timers go to the 300,000 newest
    tickets whatever their status: the sweep reads only timers, so what it sees is a desk
    with 300,000 open tickets.
(b) A sweep with nothing due: median / p90 ms of `sla.sweep` (selecting due ids through the
    three partial indexes), and its query count.
(c) 10,000 breached timers end to end: resolution timers of 10,000 queued or in-progress
    tickets are made due; the real Celery workers as deployed (the main worker, prefork,
    concurrency 2, and the delivery worker, concurrency 1: `WORKERS`) receive one
    `sla.sweep` from the broker, fan out, mark, escalate (move each ticket to the next
    team in bulk, where that team's strategy assigns it; log, react, all as batches) and
    deliver the notifications (inbox, and
    e-mail written out as the SMTP backend writes it and dropped, `bench/mailsink.py`: the
    SMTP round trip is not measured). Measured from
    the sweep's enqueue until every timer is breached and escalated and no notification is
    pending; also the CPU the worker processes and their PostgreSQL sessions spent on it, and
    what that CPU needs on two otherwise idle cores (the elapsed time includes waiting for the
    CPU whenever other work runs on the machine).

Each run of (c) picks fresh tickets and moves them one team up the chain (front → middle →
back); the operation log is append-only, so the bench database grows by ~30,000 events a run.
Prints one JSON object on its last line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

FULL_TIMER_TICKETS = 300_000
FULL_BREACHES = 10_000
QUICK_TIMER_TICKETS = 20_000
QUICK_BREACHES = 1_000
DEADLINE_S = 600
MARKER = "sla_timers"
MARKER_VERSION = 2


def ensure_timers(tickets: int) -> dict:
    """Give the `tickets` newest tickets their two running timers (once; marked)."""
    from django.db import connection, transaction

    with connection.cursor() as cur:
        cur.execute("SELECT value FROM bench_meta WHERE key = %s", [MARKER])
        row = cur.fetchone()
        # Django leaves jsonb undecoded (a str) on its psycopg2 connections.
        marker = json.loads(row[0]) if row and isinstance(row[0], str) else (row or [None])[0]
        if marker == {"tickets": tickets, "version": MARKER_VERSION}:
            return {"generated": False, "timer_s": 0.0}
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cur.execute("TRUNCATE sla_slatimer, sla_tierspan, notifications_notification")
        # Due dates spread over the next 30 days (beyond a day from now), warnings at 75 %.
        cur.execute(
            """
            INSERT INTO sla_slatimer (ticket_id, metric, policy_id, calendar_id, priority,
                target, warn_at_percent, state, used, started_at, segment_started_at, due_at,
                warn_at, met_at, escalation_level, updated_at)
            SELECT t.id, m.metric, p.id, p.calendar_id, t.priority,
                CASE m.metric WHEN 'first_response' THEN p.first_response_target
                     ELSE p.resolution_target END,
                75, CASE WHEN m.metric = 'first_response' AND t.first_response_at IS NOT NULL
                         THEN 'met' ELSE 'running' END,
                interval '0', now(), now(), d.due, d.due - interval '1 hour',
                CASE WHEN m.metric = 'first_response' THEN t.first_response_at END, 0, now()
            FROM (SELECT id, priority, first_response_at FROM tickets_ticket
                  ORDER BY id DESC LIMIT %s) t
            JOIN sla_slapolicy p
              ON p.priority = t.priority AND p.request_type_id IS NULL AND p.unit_id IS NULL
            CROSS JOIN (VALUES ('first_response'), ('resolution')) m(metric)
            CROSS JOIN LATERAL (
                SELECT now() + interval '1 day' + random() * interval '30 days' AS due
            ) d
            """,
            [tickets],
        )
        cur.execute(
            "INSERT INTO bench_meta VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [MARKER, json.dumps({"tickets": tickets, "version": MARKER_VERSION})],
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE sla_slatimer")
    return {"generated": True, "timer_s": round(time.monotonic() - started, 1)}


def reset_nothing_due() -> None:
    """Push anything a previous run left due (escalation steps, progress clocks) into the
    future, so the "nothing due" sweep really finds nothing."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE sla_slatimer SET next_escalation_at = NULL WHERE next_escalation_at IS NOT NULL"
        )
        cur.execute(
            """
            UPDATE sla_slatimer SET due_at = now() + interval '20 days',
                warn_at = now() + interval '19 days'
            WHERE state = 'running' AND (
                (warned_at IS NULL AND warn_at <= now() + interval '1 hour')
                OR (breached_at IS NULL AND due_at <= now() + interval '1 hour'))
            """
        )
        # Every team gets a lead (its first member) so each escalation notifies someone.
        cur.execute(
            """
            UPDATE accounts_team t SET lead_id = (
                SELECT min(m.user_id) FROM accounts_teammembership m WHERE m.team_id = t.id)
            WHERE t.lead_id IS NULL
            """
        )


def replenish(count: int) -> int:
    """Give back tickets to escalate: earlier runs moved their tickets up the chain (to the
    back office, where it ends). Put up to `count` of them back with a front-office agent (in
    progress, so the escalation notifies an owner as a real breach does) and a fresh resolution
    clock, in one set-based statement each (bench data, not a desk action)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            WITH front AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS n,
                       count(*) OVER () AS total
                FROM accounts_team WHERE tier = 'front' AND escalates_to_id IS NOT NULL
            ), used AS (
                SELECT s.id AS timer_id, s.ticket_id FROM sla_slatimer s
                WHERE s.metric = 'resolution' AND s.state = 'running'
                  AND s.breached_at IS NOT NULL
                ORDER BY s.id DESC LIMIT %s
            ), moved AS (
                UPDATE tickets_ticket t SET team_id = f.id, tier = 'front',
                    status = 'in_progress',
                    assignee_id = (SELECT m.user_id FROM accounts_teammembership m
                                   WHERE m.team_id = f.id ORDER BY m.user_id LIMIT 1)
                FROM used u, front f
                WHERE t.id = u.ticket_id AND f.n = t.id %% f.total
                RETURNING t.id
            )
            UPDATE sla_slatimer s SET breached_at = NULL, warned_at = NULL,
                escalation_level = 0, next_escalation_at = NULL,
                due_at = now() + interval '20 days', warn_at = now() + interval '19 days'
            FROM used u WHERE s.id = u.timer_id AND u.ticket_id IN (SELECT id FROM moved)
            """,
            [count],
        )
        return cur.rowcount


def make_breaches(count: int, exclude: list[int] | tuple = ()) -> list[int]:
    """Make up to `count` resolution timers of escalatable tickets due now, other than
    `exclude` (the ones already chosen: they are due but not yet breached, so they would be
    chosen again and waited for twice — the hang of issue #19); return their ids."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            WITH chosen AS (
                SELECT s.id FROM sla_slatimer s
                JOIN tickets_ticket t ON t.id = s.ticket_id
                JOIN accounts_team team ON team.id = t.team_id
                WHERE s.metric = 'resolution' AND s.state = 'running'
                  AND s.breached_at IS NULL AND t.status IN ('queued', 'in_progress')
                  AND team.escalates_to_id IS NOT NULL
                  AND NOT (s.id = ANY(%s))
                ORDER BY s.id DESC LIMIT %s
            )
            UPDATE sla_slatimer s SET due_at = now() - interval '1 minute',
                warn_at = now() - interval '2 minutes',
                warned_at = coalesce(s.warned_at, now() - interval '2 minutes')
            FROM chosen WHERE s.id = chosen.id
            RETURNING s.id
            """,
            [list(exclude), count],
        )
        return [row[0] for row in cur.fetchall()]


# The workers as `make run` (scripts/runall.py) and docker-compose.yml run them: the main
# worker (queue `celery`: the sweep, escalation, reactions; concurrency 2) and the delivery
# worker (queue `delivery`: e-mail and chat; concurrency 1), so a slow mail server never
# delays the sweep. Until 2026-12-06 the bench ran one worker of concurrency 2 on both
# queues, where the deliveries took turns with the sweep's chunks.
WORKERS = (("bench-sla", "celery", 2), ("bench-sla-delivery", "delivery", 1))
# Until 2026-12-07 the e-mail went to Django's locmem backend, whose deep copy of every
# message for tests' `mail.outbox` was a fifth of the delivery worker's CPU.
MAIL_SINK = "bench.mailsink.SerializingSink"


def start_worker(quick: bool, log_path: Path, name: str, queues: str, concurrency: int):
    env = common.bench_env(quick)
    # Written as the SMTP backend writes it, then dropped (bench/mailsink.py).
    env["EMAIL_BACKEND"] = MAIL_SINK
    env["LOG_LEVEL"] = "WARNING"
    handle = log_path.open("w")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            # Deliveries run on their own queue (CELERY_TASK_ROUTES): a worker must consume
            # it, or the bench waits its whole deadline for notifications nobody sent.
            "-Q",
            queues,
            "-n",
            f"{name}@%h",
        ],
        cwd=common.ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_ready(log_path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "ready" in log_path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"worker exited: {log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError("worker did not start")


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of these processes so far (those still running)."""
    used = {pid: common.process_cpu_ms(pid) for pid in pids}
    return {pid: ms / 1000 for pid, ms in used.items() if ms is not None}


def _cpu_seconds(pids: list[int]) -> float:
    return sum(_cpu_by_pid(pids).values())


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


def _db_backend_pids() -> list[int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cur.fetchall()]


def breach_end_to_end(quick: bool, count: int) -> dict:
    import redis
    from django.db import connection

    from notifications.models import Notification
    from sla import tasks
    from sla.models import SlaTimer
    from tickets.choices import EventKind
    from tickets.models import TicketEvent

    redis.Redis.from_url(common.redis_url()).flushdb()
    # A bench log only, named by the process id.
    workers = []
    for name, queues, concurrency in WORKERS:
        log_path = Path("/tmp") / f"{name}-{os.getpid()}.log"  # nosec B108
        workers.append((start_worker(quick, log_path, name, queues, concurrency), log_path))
    try:
        for worker, log_path in workers:
            wait_ready(log_path, worker)
        ids = make_breaches(count)
        if len(ids) < count:
            common.log(f"only {len(ids):,} tickets left to escalate; replenishing")
            replenish(count - len(ids))
            ids += make_breaches(count - len(ids), exclude=ids)
        if len(ids) < count:
            # A small desk has fewer escalatable tickets: escalate what there is, and say so.
            common.log(f"escalating the {len(ids):,} tickets that can be (asked for {count:,})")
        with connection.cursor() as cur:
            cur.execute("SELECT coalesce(max(id), 0) FROM tickets_ticketevent")
            (event_floor,) = cur.fetchone()
            cur.execute("SELECT coalesce(max(id), 0) FROM notifications_notification")
            (notification_floor,) = cur.fetchone()
        worker_pids = [pid for worker, _log in workers for pid in _group_pids(worker.pid)]
        worker_cpu_before = _cpu_seconds(worker_pids)
        # The database sessions' CPU, sampled while polling: Celery may close a task's
        # connection after it, so a session's last reading is kept when it is gone.
        db_before = _cpu_by_pid(_db_backend_pids())
        db_seen = dict(db_before)
        started = time.monotonic()
        tasks.sweep.delay()
        done = False
        escalated_at = None
        while time.monotonic() - started < DEADLINE_S:
            db_seen.update(_cpu_by_pid(_db_backend_pids()))
            escalated = SlaTimer.objects.filter(
                pk__in=ids, breached_at__isnull=False, escalation_level__gte=1
            ).count()
            if escalated == len(ids):
                if escalated_at is None:
                    escalated_at = time.monotonic() - started
                pending = Notification.objects.filter(
                    pk__gt=notification_floor, status="pending"
                ).exists()
                if not pending:
                    done = True
                    break
            time.sleep(0.25)
        elapsed = time.monotonic() - started
        worker_cpu = _cpu_seconds(worker_pids) - worker_cpu_before
        db_seen.update(_cpu_by_pid(_db_backend_pids()))
        db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_seen.items())
        load = os.getloadavg()[0]
    finally:
        for worker, _log in workers:
            stop_worker(worker)
    events = TicketEvent.objects.filter(pk__gt=event_floor)
    notifications = Notification.objects.filter(pk__gt=notification_floor)
    return {
        "breach_timers": len(ids),
        "breach_requested": count,
        "breach_end_to_end_s": round(elapsed, 2),
        "breach_completed": done,
        # When the last timer was escalated; the rest is the notifications' delivery.
        "breach_escalated_s": None if escalated_at is None else round(escalated_at, 2),
        "breach_events": events.filter(kind=EventKind.SLA_BREACHED).count(),
        "escalation_events": events.filter(kind=EventKind.ESCALATED).count(),
        "reassigned": events.filter(kind=EventKind.TEAM_CHANGED).count(),
        "notifications": notifications.count(),
        "notifications_sent": notifications.filter(status="sent").count(),
        "workers": {name: f"queue {queues}, concurrency {n}" for name, queues, n in WORKERS},
        # CPU the work itself took (worker processes + their PostgreSQL sessions), and what two
        # otherwise idle cores would need for it: the elapsed time above includes waiting for
        # the CPU whenever the machine is busy with other work (see load_avg_1m).
        "worker_cpu_s": round(worker_cpu, 1),
        "db_cpu_s": round(db_cpu, 1),  # a lower bound: sampled every 0.25 s
        "cpu_s_per_timer_ms": round(1000 * (worker_cpu + db_cpu) / max(len(ids), 1), 2),
        "two_idle_cores_estimate_s": round((worker_cpu + db_cpu) / 2, 1),
        "load_avg_1m": round(load, 2),
    }


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[0])
    runs = args.runs or (5 if args.quick else 30)
    common.setup_django(args.quick)
    subprocess.run(
        [sys.executable, str(common.ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=common.ROOT,
        env=common.bench_env(args.quick),
        check=True,
    )
    from django.db import connection

    from sla import tasks
    from sla.models import SlaTimer

    timer_tickets = QUICK_TIMER_TICKETS if args.quick else FULL_TIMER_TICKETS
    breaches = QUICK_BREACHES if args.quick else FULL_BREACHES
    generated = ensure_timers(timer_tickets)
    reset_nothing_due()
    common.log(f"timers ready ({generated}); measuring the empty sweep")
    running = SlaTimer.objects.filter(state="running").count()
    empty = common.time_calls(tasks.sweep, runs=runs)
    queries = common.count_queries(tasks.sweep)
    assert tasks.sweep() == {"warning": 0, "breach": 0, "escalation": 0}
    common.log(f"empty sweep median {empty['median_ms']} ms; now {breaches:,} breaches")
    connection.close()
    result = breach_end_to_end(args.quick, breaches)
    common.emit(
        {
            "name": "sla",
            "database": common.bench_db_name(args.quick),
            "timer_tickets": timer_tickets,
            "running_timers": running,
            **generated,
            "empty_sweep_median_ms": empty["median_ms"],
            "empty_sweep_p90_ms": empty["p90_ms"],
            "empty_sweep_queries": queries,
            "empty_sweep_runs": empty["runs"],
            **result,
        }
    )


if __name__ == "__main__":
    main()
