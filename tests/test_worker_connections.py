"""A real Celery worker keeps its PostgreSQL connection from one task to the next, as Django
keeps a web worker's between requests (servicedesk/celery.py): Celery's Django fix-up closed it
around every task, so each task paid for a new backend process (issue #10: ~350 sessions for
10,000 SLA breaches)."""

from __future__ import annotations

import os
import time

import pytest
import redis
from django.conf import settings
from django.db import connection

from servicedesk.celery import app
from tests.sla.test_worker_integration import _start, _stop, _wait_for


def _worker_backends() -> set[int]:
    """The other sessions on the test database: the worker's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


def _succeeded(log) -> int:
    return log.read_text(errors="replace").count("succeeded in")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_between_tasks(tmp_path):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    assert _worker_backends() == set()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test",
        "DATABASE_URL": (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
    }
    log = tmp_path / "worker.log"
    worker = _start(
        ["worker", "--pool=prefork", "--concurrency=1", "--loglevel=INFO", "-n", "conn@%h"],
        env,
        log,
    )
    try:
        _wait_for(lambda: "ready" in log.read_text(), 30, "the worker to start")
        # send_task goes through the broker even where the tests' tasks run eagerly; without
        # ignore_result it would subscribe this process to a result channel.
        app.send_task("sla.sweep", ignore_result=True)
        _wait_for(lambda: _succeeded(log) == 1, 30, "the first task")
        first = _worker_backends()
        assert len(first) == 1, first  # the pool process's connection, kept after its task
        for _ in range(10):
            app.send_task("sla.sweep", ignore_result=True)
        _wait_for(lambda: _succeeded(log) == 11, 30, "ten more tasks")
        time.sleep(0.2)
        assert _worker_backends() == first  # the same session served them all
    finally:
        _stop(worker)
