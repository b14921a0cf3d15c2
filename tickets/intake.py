"""The intake queue: new tickets whose reactions (classification, routing, SLA start) are due
in a worker.

A channel pays for its insert and nothing more: the new ticket's row carries `intake_due_at`,
and one `tickets.drain_intake` message per burst wakes a worker, which claims the due tickets in
batches and runs their TICKET_CREATED reactions. The message is deduplicated with a Redis key
(`SET NX`): while a drain is scheduled and has not started, further tickets only check the key.
A drain deletes the key before it claims, so a ticket committed after the claim schedules the
next drain, and a ticket committed before it is in the claim.

The rows, not the messages, are the record of what is due: a claim is a lease (LEASE); a
worker that dies mid-batch leaves its tickets to be claimed again when the lease ends, a batch
that fails (the database went away) hands its unfinished tickets back within seconds, and the
beat job `tickets.drain_intake` (every minute) picks up whatever a lost message left. A ticket
is released only when its whole chain of reactions ran; one whose reaction failed stays due
until its next attempt (tickets/retries.py). Running the reactions twice is harmless: routing
leaves a ticket that is no longer new alone, SLA timers start once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from servicedesk.redis_outage import UNREACHABLE, redis_outage
from servicedesk.tasks import enqueue_by_name

from . import retries, wiring
from .models import Ticket

logger = logging.getLogger(__name__)

WAKE_KEY = "tickets:intake:drain-scheduled"
# A scheduled drain whose message was lost is replaced after this at the latest.
WAKE_TTL_SECONDS = 60
# How long a claimed batch belongs to its worker before another may take it over.
LEASE = timedelta(minutes=5)
# A batch that failed as a whole hands its tickets back after this, not after the lease.
RETRY_FAILED_BATCH = timedelta(seconds=5)
BATCH = 100
# A drain hands the rest to a fresh message after this, well inside the task's time limit.
DRAIN_SECONDS = 60

# The due rows are picked once, in a materialised CTE: as a plain `IN (subquery)` the planner
# may re-run the LIMIT subquery per row and claim more than `limit` tickets.
CLAIM_SQL = """
    WITH due AS MATERIALIZED (
        SELECT id FROM tickets_ticket
        WHERE intake_due_at IS NOT NULL AND intake_due_at <= %(now)s
        ORDER BY intake_due_at, id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE tickets_ticket AS ticket SET intake_due_at = %(lease_until)s
    FROM due WHERE ticket.id = due.id
    RETURNING ticket.id
"""


def wake() -> bool:
    """Make sure a drain is on its way; False when Redis or the broker cannot be reached (the
    caller then runs the reactions itself)."""
    try:
        if not cache.add(WAKE_KEY, 1, WAKE_TTL_SECONDS):
            redis_outage.succeeded()
            return True  # a drain is scheduled and has not claimed yet: it will see this ticket
    except UNREACHABLE as exc:
        redis_outage.failed("intake wake-ups", exc)  # logged once per outage
        return False
    except Exception:
        logger.exception("could not schedule the intake drain")
        return False
    if enqueue_by_name("tickets.drain_intake"):
        return True
    _forget_wake()
    return False


def _forget_wake() -> None:
    try:
        cache.delete(WAKE_KEY)
    except UNREACHABLE as exc:
        redis_outage.failed("cache", exc)
    except Exception:
        logger.exception("could not clear the intake drain key")


def claim(limit: int = BATCH) -> list[int]:
    """Take up to `limit` due tickets (oldest first) for this worker, under a lease."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, {"now": now, "lease_until": now + LEASE, "limit": limit})
        return sorted(row[0] for row in cursor.fetchall())


def release(ticket_ids: list[int]) -> None:
    """The reactions of these tickets ran: they are no longer due."""
    if ticket_ids:
        Ticket.objects.filter(pk__in=ticket_ids).update(intake_due_at=None)


def run(ticket_ids: list[int]) -> list[int]:
    """Run the intake reactions of these (claimed) tickets and release the ones whose whole
    chain completed; return those."""
    completed = retries.run_intake(ticket_ids)
    release(completed)
    return completed


def _hand_back(ticket_ids: list[int]) -> None:
    """A batch died as a whole (e.g. the database went away): its tickets are due again in
    seconds instead of when the lease ends. Best effort: if this fails too, the lease ends."""
    try:
        Ticket.objects.filter(pk__in=ticket_ids, intake_due_at__gt=timezone.now()).update(
            intake_due_at=timezone.now() + RETRY_FAILED_BATCH
        )
    except Exception:
        logger.exception("could not hand back %d intake tickets; their lease ends", len(ticket_ids))


def drain(*, batch: int = BATCH, seconds: float = DRAIN_SECONDS) -> int:
    """Run the intake reactions of every due ticket, a batch at a time; return how many.

    Past `seconds` it stops after the current batch and schedules another drain, so a large
    backlog is worked through in messages that each end well inside the task's time limit.
    """
    _forget_wake()
    deadline = time.monotonic() + seconds
    done = 0
    while ticket_ids := claim(batch):
        try:
            with wiring.batch():
                wiring.prepare_intake_batch(ticket_ids)
                run(ticket_ids)
        except Exception:
            _hand_back(ticket_ids)
            raise
        done += len(ticket_ids)
        if time.monotonic() > deadline:
            wake()
            break
    return done
