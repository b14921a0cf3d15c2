"""Firing ticket events: the services' side of the reactions.

Services call `fire()` inside their transaction; after it commits, the event's chain of
reactions (the wiring table, `tickets.wiring.WIRING`) runs in-process or in a worker. A
reaction that raises never undoes the change that fired it and is never lost: the chain stops
there and `tickets.retries` retries the rest with backoff, then parks it for an administrator.
"""

from __future__ import annotations

import logging

from django.db import transaction

from servicedesk.tasks import enqueue_by_name

from . import intake, retries, wiring
from .wiring import (  # noqa: F401  (the events, batch and inline are part of this module's API)
    ASSIGNMENT_CHANGED,
    EVENTS,
    PRIORITY_CHANGED,
    PUBLIC_REPLY_ADDED,
    STATUS_CHANGED,
    TICKET_CREATED,
    WIRING,
    batch,
    chain,
    collect,
    deferred,
    inline,
    memo,
    registered,
    run_chain,
    wired_for_test,
)

logger = logging.getLogger(__name__)


def fire(event: str, **payload) -> None:
    """Run the event's reactions once the current transaction commits.

    Events named in `SERVICEDESK["REACTIONS_IN_WORKER"]` (by default the intake's
    TICKET_CREATED: classification, routing, SLA start) run in a Celery worker, so taking a
    ticket in costs the channel only the insert; TICKET_CREATED goes through the intake queue
    (tickets/intake.py), any other such event as a message of its own. The others run
    in-process right after the commit. When the broker cannot be reached the reactions run
    in-process: nothing is lost.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown ticket event {event!r}")
    transaction.on_commit(lambda: dispatch(event, payload))


def dispatch(event: str, payload: dict) -> None:
    if event == TICKET_CREATED:
        # The new ticket's row says its reactions are due (intake_due_at); the intake queue
        # releases it only when every reaction has run.
        if deferred(event):
            if intake.wake():
                return
            # Not a line per ticket: the outage itself is logged once (servicedesk.redis_outage).
            logger.debug("broker unreachable: running the %s reactions in-process", event)
        intake.run([payload["ticket_id"]])
        return
    if deferred(event):
        if enqueue_by_name("tickets.run_reactions", event, payload):
            return
    elif collect(event, payload):
        return  # fired inside an intake batch: run with the batch's other events of this kind
    run_now(event, **payload)


def fire_many(event: str, payloads: list[dict]) -> None:
    """`fire` for the same event of many tickets (bulk services: thousands of linked tickets
    resolved together, a delivery's new alert tickets): one after-commit hand-off for all of
    them, and the chain's batch forms (tickets/wiring.py BATCH_FORMS, `wiring.run_batch`)
    instead of a chain run per ticket. The outcome per ticket is the same as firing each:
    every reaction runs for every ticket, and a failure is recorded for that ticket's retry."""
    if event not in EVENTS:
        raise ValueError(f"unknown ticket event {event!r}")
    if payloads:
        payloads = list(payloads)
        transaction.on_commit(lambda: dispatch_many(event, payloads))


def dispatch_many(event: str, payloads: list[dict]) -> None:
    if event == TICKET_CREATED:
        # One wake-up for the lot (each ticket's row says it is due), else one intake run.
        if deferred(event):
            if intake.wake():
                return
            logger.warning("broker unreachable: running the %s reactions in-process", event)
        ticket_ids = [payload["ticket_id"] for payload in payloads]
        with batch():  # as the intake drain runs a batch
            wiring.prepare_intake_batch(ticket_ids)
            intake.run(ticket_ids)
        return
    if deferred(event):
        unsent = [p for p in payloads if not enqueue_by_name("tickets.run_reactions", event, p)]
        if not unsent:
            return
        payloads = unsent
    with batch():
        # The chain reaction by reaction for a chunk of tickets (`wiring.run_batch`, the intake
        # drain's way, with the reactions' batch forms): each ticket's failure is its own.
        for start in range(0, len(payloads), wiring.BATCH_CHUNK):
            chunk = payloads[start : start + wiring.BATCH_CHUNK]
            failed, fired_failures = wiring.run_batch(event, chunk)
            for index, (reaction, error) in failed.items():
                retries.record_failure(
                    event=event, payload=chunk[index], reaction=reaction, error=error
                )
            for fired_event, payload, reaction, error in fired_failures:
                retries.record_failure(
                    event=fired_event, payload=payload, reaction=reaction, error=error
                )


def run_now(event: str, **payload) -> None:
    """Run the event's reactions here and now; a failure is recorded for retry, never lost."""
    failed, error = run_chain(event, payload)
    if failed:
        retries.record_failure(event=event, payload=payload, reaction=failed, error=error)
