"""The intake queue (tickets/intake.py): new tickets wait as rows, one message per burst wakes a
drain, and a drain runs every due ticket's reactions once."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla.models import SlaTimer
from tickets import intake, reactions, services
from tickets.choices import EventKind
from tickets.models import Ticket, TicketEvent


@pytest.fixture
def broker():
    """The tests' own Redis database, empty before and after."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def reactions_in_worker(settings):
    settings.SERVICEDESK = {**settings.SERVICEDESK, "REACTIONS_IN_WORKER": ["ticket_created"]}


def _new_tickets(desk, count: int, capture) -> list[Ticket]:
    tickets = []
    for n in range(count):
        with capture(execute=True):
            ticket, _created = services.ticket_create(
                requester=desk.requester, title=f"Printer jam {n}", created_by=desk.requester
            )
        tickets.append(ticket)
    return tickets


def _handled(ticket: Ticket) -> bool:
    ticket.refresh_from_db()
    return ticket.needs_triage and SlaTimer.objects.filter(ticket=ticket).exists()


def test_a_burst_of_new_tickets_sends_one_message_and_leaves_the_reactions_due(
    desk, reactions_in_worker, broker, django_capture_on_commit_callbacks
):
    tickets = _new_tickets(desk, 3, django_capture_on_commit_callbacks)

    assert broker.llen("celery") == 1  # one drain for the burst, not one message per ticket
    for ticket in tickets:
        assert ticket.intake_due_at is not None
        assert not _handled(ticket)
        assert not SlaTimer.objects.filter(ticket=ticket).exists()


def test_a_drain_runs_every_due_tickets_reactions_once(
    desk, reactions_in_worker, broker, django_capture_on_commit_callbacks
):
    tickets = _new_tickets(desk, 3, django_capture_on_commit_callbacks)

    assert intake.drain() == 3
    assert intake.drain() == 0  # a redelivered message finds nothing due
    for ticket in tickets:
        assert _handled(ticket)
        assert ticket.intake_due_at is None
        assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.TRIAGE).count() == 1
        assert SlaTimer.objects.filter(ticket=ticket).count() == 2


def test_a_drain_clears_the_wake_key_first_so_later_tickets_wake_the_next_one(
    desk, reactions_in_worker, broker, django_capture_on_commit_callbacks
):
    _new_tickets(desk, 1, django_capture_on_commit_callbacks)
    assert cache.get(intake.WAKE_KEY) == 1
    broker.delete("celery")

    intake.drain()
    assert cache.get(intake.WAKE_KEY) is None
    _new_tickets(desk, 1, django_capture_on_commit_callbacks)
    assert broker.llen("celery") == 1


def test_claims_are_leases_that_another_drain_takes_over_when_they_end(
    desk, reactions_in_worker, broker, django_capture_on_commit_callbacks
):
    first, second, third = _new_tickets(desk, 3, django_capture_on_commit_callbacks)

    assert intake.claim(2) == [first.pk, second.pk]
    assert intake.claim(2) == [third.pk]  # claimed rows are not handed out twice
    assert intake.claim(2) == []
    # The first worker died: its lease ends and its tickets are due again.
    Ticket.objects.filter(pk__in=[first.pk, second.pk]).update(
        intake_due_at=timezone.now() - timedelta(seconds=1)
    )
    assert intake.claim(5) == [first.pk, second.pk]


def test_a_drain_past_its_time_hands_the_rest_to_a_new_message(
    desk, reactions_in_worker, broker, django_capture_on_commit_callbacks
):
    tickets = _new_tickets(desk, 5, django_capture_on_commit_callbacks)
    broker.delete("celery")

    assert intake.drain(batch=2, seconds=0) == 2
    assert broker.llen("celery") == 1
    assert Ticket.objects.filter(intake_due_at__isnull=False).count() == 3
    assert [_handled(t) for t in tickets] == [True, True, False, False, False]
    assert intake.drain(batch=2) == 3


def test_in_process_reactions_leave_nothing_due(desk, django_capture_on_commit_callbacks):
    """Without a worker (the tests' default, `reactions.inline()`) the reactions run on commit
    and the ticket is never queued."""
    (ticket,) = _new_tickets(desk, 1, django_capture_on_commit_callbacks)
    assert ticket.intake_due_at is None
    assert _handled(ticket)


def test_beat_drains_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["tickets.drain_intake"]
    assert entry == {"task": "tickets.drain_intake", "schedule": 60}


def test_a_redis_that_never_answers_makes_the_channel_run_the_reactions_itself(settings):
    """A Redis that accepts connections but never replies (a hung server): the wake-up gives up
    after the cache's socket timeout and says so, so the request falls back instead of hanging
    (without the timeout this test would never finish)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        port = silent.getsockname()[1]
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}
        }
        assert intake.wake() is False


def test_a_drain_reads_the_reference_data_once_per_batch(
    desk, reactions_in_worker, broker, django_capture_on_commit_callbacks
):
    """Rules, the active models, the priority matrix and the SLA policies are read once for a
    batch of new tickets, not once per ticket."""
    _new_tickets(desk, 4, django_capture_on_commit_callbacks)

    with CaptureQueriesContext(connection) as queries:
        assert intake.drain() == 4
    sql = [q["sql"] for q in queries.captured_queries]
    for table in (
        "routing_classificationrule",
        "routing_classifiermodel",
        "routing_prioritymatrix",
        "sla_slapolicy",
    ):
        assert sum(f'FROM "{table}"' in statement for statement in sql) == 1, table


def test_memo_loads_once_per_batch_and_every_time_outside_one():
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert reactions.memo("k", load) == 1
    assert reactions.memo("k", load) == 2  # no batch: nothing is kept
    with reactions.batch():
        assert reactions.memo("k", load) == 3
        assert reactions.memo("k", load) == 3
        assert reactions.memo("other", load) == 4
    with reactions.batch():  # a new batch reads afresh
        assert reactions.memo("k", load) == 5


def test_publishing_leaves_no_result_subscription_behind(broker):
    """Nothing reads task results, so a publish must not subscribe the publishing process (a
    web worker's threads) to a result channel."""
    from servicedesk.celery import app
    from servicedesk.tasks import enqueue
    from tickets.tasks import drain_intake

    assert enqueue(drain_intake) is True
    assert broker.llen("celery") == 1
    consumer = app.backend.result_consumer
    assert getattr(consumer, "_pubsub", None) is None
    assert not getattr(consumer, "subscribed_to", set())
