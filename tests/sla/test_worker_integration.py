"""A real Celery worker and a real beat on Redis: a P1 ticket is warned, breached and escalated
exactly once per level.

The worker and beat are subprocesses on the test database (DATABASE_URL) and the test's own
Redis database (TEST_REDIS_DB); beat sweeps every second (SLA_SWEEP_SECONDS=1) and the P1 policy
is shortened to seconds (warned at 3 s, breached at 10 s), since a worker in another process
cannot see a frozen clock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from notifications.models import Notification
from sla.choices import Metric
from sla.models import EscalationStep, SlaPolicy, SlaTimer
from tickets.choices import EventKind
from tickets.models import Ticket, TicketEvent

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 45


def _redis_url() -> str:
    """The tests' own Redis database (the test settings put it on TEST_REDIS_DB of whichever
    Redis REDIS_URL names: the embedded one, or CI's)."""
    return settings.REDIS_URL


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "servicedesk", *args],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the pool children stop with it
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_p1_warned_breached_and_escalated_once_per_level(desk, open_ticket, tmp_path):
    desk.front.lead = desk.tier2
    desk.front.save(update_fields=["lead"])
    SlaPolicy.objects.filter(priority="P1", request_type=None, unit=None).update(
        first_response_target=timedelta(seconds=10),
        resolution_target=timedelta(hours=1),
        warn_at_percent=30,  # warned after 3 s: far enough from the breach on a busy machine
    )
    EscalationStep.objects.filter(policy__priority="P1", level=2).update(delay=timedelta(seconds=3))
    redis.Redis.from_url(_redis_url()).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test",
        "DATABASE_URL": (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
        ),
        "REDIS_URL": _redis_url(),
        "SLA_SWEEP_SECONDS": "1",
        "DB_CONN_MAX_AGE": "0",
    }
    worker = _start(
        [
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--loglevel=INFO",
            "-Q",
            "celery,delivery",
            "-n",
            "sla-test@%h",
        ],
        env,
        tmp_path / "worker.log",
    )
    beat = _start(
        ["beat", "--loglevel=INFO", "--schedule", str(tmp_path / "beat-schedule")],
        env,
        tmp_path / "beat.log",
    )
    try:
        _wait_for(
            lambda: "ready" in (tmp_path / "worker.log").read_text(), 30, "the worker to start"
        )
        ticket = open_ticket(at=None, priority="P1")
        timer = SlaTimer.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)

        def escalated_twice() -> bool:
            timer.refresh_from_db()
            return (
                timer.escalation_level == 2
                and not Notification.objects.filter(status="pending").exists()
            )

        _wait_for(escalated_twice, DEADLINE_SECONDS, "two escalation levels")
        time.sleep(3)  # a few more sweeps: they must find nothing new
    finally:
        _stop(beat)
        _stop(worker)

    log = (tmp_path / "worker.log").read_text()
    assert "sla.process_timers" in log, log[-3000:]
    timer.refresh_from_db()
    assert timer.warned_at is not None and timer.breached_at is not None
    assert timer.warned_at < timer.breached_at
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket, kind__in=["sla.warned", "sla.breached"])
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [EventKind.SLA_WARNED, EventKind.SLA_BREACHED]
    escalations = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED)
    assert [(e.data["level"], e.data.get("reassigned_to")) for e in escalations] == [
        (1, desk.middle.pk),
        (2, desk.back.pk),
    ]
    assert Ticket.objects.get(pk=ticket.pk).team == desk.back
    rows = sorted(
        Notification.objects.filter(dedupe_key__startswith=f"sla:{timer.pk}:").values_list(
            "dedupe_key", "status"
        )
    )
    prefix = f"sla:{timer.pk}"
    deadline = int(timer.due_at.timestamp())  # keys name the deadline that was missed
    assert rows == [
        (f"{prefix}:escalation:1:{deadline}:email:{desk.tier2.pk}", "sent"),
        (f"{prefix}:escalation:1:{deadline}:inbox:{desk.tier2.pk}", "sent"),
        (f"{prefix}:escalation:2:{deadline}:email:{desk.manager.pk}", "sent"),
        (f"{prefix}:escalation:2:{deadline}:inbox:{desk.manager.pk}", "sent"),
        (f"{prefix}:warning:0:{deadline}:email:{desk.tier2.pk}", "sent"),
        (f"{prefix}:warning:0:{deadline}:inbox:{desk.tier2.pk}", "sent"),
    ]
