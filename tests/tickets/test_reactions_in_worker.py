"""Intake reactions (classification, routing, SLA start) run in a real Celery worker, and fall
back to running in-process when the broker cannot be reached."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.db import connection

from sla.models import SlaTimer
from tests.sla.test_worker_integration import _redis_url, _start, _stop, _wait_for
from tickets import services
from tickets.choices import EventKind, Status
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    return (
        f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
        f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
    )


@pytest.fixture
def reactions_in_worker(settings):
    settings.SERVICEDESK = {**settings.SERVICEDESK, "REACTIONS_IN_WORKER": ["ticket_created"]}


def _triaged_with_timers(ticket_id: int) -> bool:
    ticket = Ticket.objects.get(pk=ticket_id)
    return ticket.needs_triage and SlaTimer.objects.filter(ticket_id=ticket_id).exists()


@pytest.mark.worker
def test_a_new_ticket_is_classified_and_timed_by_the_worker(desk, reactions_in_worker, tmp_path):
    redis.Redis.from_url(_redis_url()).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": _redis_url(),
        "REACTIONS_IN_WORKER": "ticket_created",
        "DB_CONN_MAX_AGE": "0",
    }
    worker = _start(
        ["worker", "--pool=solo", "--loglevel=INFO", "-n", "reactions-test@%h"],
        env,
        tmp_path / "worker.log",
    )
    try:
        _wait_for(lambda: "ready" in (tmp_path / "worker.log").read_text(), 30, "the worker")
        ticket, created = services.ticket_create(
            requester=desk.requester, title="Something odd", created_by=desk.requester
        )
        assert created
        _wait_for(lambda: _triaged_with_timers(ticket.pk), 30, "the worker's reactions")
    finally:
        _stop(worker)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW  # no model, no rule: manual triage (人工兜底)
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.TRIAGE).count() == 1
    assert "tickets.drain_intake" in (tmp_path / "worker.log").read_text()
    assert ticket.intake_due_at is None


def test_with_the_broker_down_the_reactions_run_in_process(desk):
    """A desk process whose broker address answers nothing (its own interpreter, so the
    test process's Celery connections stay as they are) still classifies and times a new
    ticket: the reactions run in-process."""
    code = (
        "from accounts.models import User\n"
        "from tickets import services\n"
        f"requester = User.objects.get(pk={desk.requester.pk})\n"
        "ticket, created = services.ticket_create(requester=requester, "
        "title='Something odd', created_by=requester)\n"
        "print(ticket.pk, created)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": "redis://127.0.0.1:9/0",  # nothing listens there
        "REACTIONS_IN_WORKER": "ticket_created",
        "DB_CONN_MAX_AGE": "0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    ticket_id, created = result.stdout.split()[-2:]
    assert created == "True"
    assert _triaged_with_timers(int(ticket_id))
    assert Ticket.objects.get(pk=ticket_id).intake_due_at is None  # nothing left for a drain
    assert TicketEvent.objects.filter(ticket_id=ticket_id, kind=EventKind.TRIAGE).count() == 1
    # The fallback is logged once per outage (servicedesk.redis_outage), without a traceback.
    assert result.stderr.count("Redis unreachable (") == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_the_create_answer_is_the_ticket_as_stored_while_the_worker_has_it(
    desk, reactions_in_worker
):
    """With the intake reactions queued for the worker, the create response is built from the
    ticket just written, without reading it again, and equals what a read returns."""
    from rest_framework.test import APIClient

    redis.Redis.from_url(_redis_url()).flushdb()
    client = APIClient()
    client.force_authenticate(desk.requester)
    created = client.post(
        "/api/tickets/",
        {"title": "Printer <b>jam</b>", "description": "3rd floor"},
        format="json",
    )
    assert created.status_code == 201
    read = client.get(f"/api/tickets/{created.json()['id']}/")
    assert created.json() == read.json()
    assert created["ETag"] == read["ETag"]
    assert created.json()["status"] == Status.NEW
    assert created.json()["title"] == "Printer <b>jam</b>"
    # Nobody consumed the queue: the reactions are waiting for a worker, as sent.
    assert redis.Redis.from_url(_redis_url()).llen("celery") == 1
    redis.Redis.from_url(_redis_url()).flushdb()
