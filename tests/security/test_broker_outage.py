"""A Redis (broker and cache) outage is logged once per outage, not twice a request (issue 17,
item 16): a warning when it starts, one when Redis is back with how many operations fell back
meanwhile, no traceback. Creates keep working all along (their reactions run in-process).

The outage is real: the test starts its own redis-server on loopback, points the cache and the
Celery broker at it, stops it, and starts it again on the same port.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time

import pytest
import redis
from kombu import pools
from rest_framework.test import APIClient

from servicedesk.celery import app
from servicedesk.redis_outage import redis_outage
from sla.models import SlaTimer
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


class RedisServer:
    def __init__(self, directory) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


def _use_broker(url: str) -> None:
    """Point Celery's publishing at `url`, dropping connections pooled for another one."""
    pools.reset()  # kombu's registry of producer pools, keyed by connection
    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.broker_url = url


@pytest.fixture
def own_redis(settings, tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    saved_broker = app.conf.broker_url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    settings.SERVICEDESK = {**settings.SERVICEDESK, "REACTIONS_IN_WORKER": ["ticket_created"]}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/minute", "anon": "1000/minute", "login": None},
    }
    _use_broker(server.url)
    redis_outage.reset()
    yield server
    server.stop()
    _use_broker(saved_broker)
    redis_outage.reset()


def test_a_redis_outage_is_logged_once_with_what_fell_back(desk, own_redis, caplog):
    client = APIClient()
    client.force_authenticate(desk.requester)

    def create(title: str) -> int:
        response = client.post("/api/tickets/", {"title": title}, format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    caplog.set_level(logging.DEBUG)
    create("Before the outage")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []

    own_redis.stop()
    caplog.clear()
    during = [create(f"During the outage {n}") for n in range(5)]
    # Nothing lost: each create ran its reactions in-process (routed, clocks started).
    for ticket in Ticket.objects.filter(pk__in=during):
        assert ticket.intake_due_at is None, ticket.number
        assert SlaTimer.objects.filter(ticket=ticket).exists(), ticket.number
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in loud] == ["servicedesk.redis"], [r.getMessage() for r in loud]
    assert loud[0].getMessage().startswith("Redis unreachable (")
    assert all(r.exc_info is None for r in caplog.records)

    own_redis.start()
    caplog.clear()
    create("After the outage")
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in loud] == ["servicedesk.redis"], [r.getMessage() for r in loud]
    message = loud[0].getMessage()
    assert message.startswith("Redis reachable again after ")
    # Per create: the throttle's check, the intake's wake-up and the receipt's delivery task
    # (its notification row stays pending for the beat job that re-sends).
    assert message.endswith(
        "fell back meanwhile: 5 intake wake-ups, 5 publishes, 5 throttle checks"
    ), message
    create("Back to normal")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == loud
