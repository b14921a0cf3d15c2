"""The one registry of who reacts to what in the ticket core.

`tickets` imports no other domain app. Apps that must react to a ticket's life (routing
classifies new tickets, sla starts and stops timers, notifications tell people) connect a
function here in their `AppConfig.ready()`. Services `fire()` inside their transaction; the
reactions run after it commits, each isolated so one failing reaction never undoes the change
or stops the others.

Events and their keyword payload (every payload has `ticket_id`):
- TICKET_CREATED
- STATUS_CHANGED: old, new, actor_id
- ASSIGNMENT_CHANGED: old_team_id, new_team_id, old_tier, new_tier, old_assignee_id,
  new_assignee_id
- PRIORITY_CHANGED: old, new
- PUBLIC_REPLY_ADDED: comment_id, by_requester (bool)
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

TICKET_CREATED = "ticket_created"
STATUS_CHANGED = "status_changed"
ASSIGNMENT_CHANGED = "assignment_changed"
PRIORITY_CHANGED = "priority_changed"
PUBLIC_REPLY_ADDED = "public_reply_added"
EVENTS = {TICKET_CREATED, STATUS_CHANGED, ASSIGNMENT_CHANGED, PRIORITY_CHANGED, PUBLIC_REPLY_ADDED}

_reactions: dict[str, list[Callable[..., None]]] = defaultdict(list)


def connect(event: str, reaction: Callable[..., None]) -> None:
    """Register `reaction(**payload)` for `event` (idempotent: a function is added once)."""
    if event not in EVENTS:
        raise ValueError(f"unknown ticket event {event!r}")
    if reaction not in _reactions[event]:
        _reactions[event].append(reaction)


def registered() -> dict[str, list[str]]:
    """Every reaction by event, for the README and for tests."""
    return {
        event: [f"{r.__module__}.{r.__qualname__}" for r in _reactions[event]]
        for event in sorted(EVENTS)
    }


_local = threading.local()


def fire(event: str, **payload) -> None:
    """Run the event's reactions once the current transaction commits.

    Events named in `SERVICEDESK["REACTIONS_IN_WORKER"]` (by default the intake's
    TICKET_CREATED: classification, routing, SLA start) run in a Celery worker, so taking a
    ticket in costs the channel only the insert; TICKET_CREATED goes through the intake queue
    (tickets/intake.py), any other such event as a message of its own. The others run
    in-process right after the commit. When the broker cannot be reached the reactions run
    in-process: nothing is lost.
    """
    transaction.on_commit(lambda: dispatch(event, payload))


def deferred(event: str) -> bool:
    """True when the event's reactions run in a worker: what was just committed is then still
    the ticket's state when the request that committed it answers."""
    in_worker = settings.SERVICEDESK.get("REACTIONS_IN_WORKER", ())
    return event in in_worker and not getattr(_local, "inline", False)


def dispatch(event: str, payload: dict) -> None:
    if deferred(event):
        if _send_to_worker(event, payload):
            return
        logger.warning("broker unreachable: running the %s reactions in-process", event)
        run_now(event, **payload)
        if event == TICKET_CREATED:
            from . import intake

            intake.release([payload["ticket_id"]])
        return
    run_now(event, **payload)


def _send_to_worker(event: str, payload: dict) -> bool:
    if event == TICKET_CREATED:
        # The new ticket's row says its reactions are due; a drain takes them in batches.
        from . import intake

        return intake.wake()
    from servicedesk.tasks import enqueue

    from .tasks import run_reactions

    return enqueue(run_reactions, event, payload)


@contextmanager
def inline():
    """Run every reaction in-process for the duration (e.g. seeding demo data step by step)."""
    previous = getattr(_local, "inline", False)
    _local.inline = True
    try:
        yield
    finally:
        _local.inline = previous


@contextmanager
def batch():
    """Run reactions for a batch of tickets (the intake drain): reference data that reactions
    read through `memo()` (rules, models, the priority matrix, SLA policies) is read once for
    the batch instead of once per ticket. A change to it applies from the next batch."""
    previous = getattr(_local, "memo", None)
    _local.memo = {}
    try:
        yield
    finally:
        _local.memo = previous


def memo(key, load: Callable[[], object]):
    """`load()`, once per `batch()` for the same key; outside a batch, every time. What it
    returns is shared by the batch's tickets and must be read, never changed."""
    store = getattr(_local, "memo", None)
    if store is None:
        return load()
    if key not in store:
        store[key] = load()
    return store[key]


def run_now(event: str, **payload) -> None:
    for reaction in list(_reactions[event]):
        try:
            reaction(**payload)
        except Exception:
            logger.exception("reaction %s to %s failed for %s", reaction, event, payload)
