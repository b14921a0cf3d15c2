"""The wiring table: who reacts to what in the ticket core, in which order, and how one
chain of reactions runs.

`tickets` imports no other domain app. Apps that react to a ticket's life (routing classifies
new tickets, sla starts and stops timers, notifications tell people) are connected HERE, in
`WIRING`, by dotted path, in the order they run: a reader finds every "who reacts to what,
after what" in this one table, and nowhere else (decision 0007).

Each reaction runs in its own transaction, so a failure leaves nothing half done, and every
reaction is idempotent, so running one again after a crash is harmless. A chain stops at the
first reaction that raises; `tickets.retries` records where to resume.

Events and their keyword payload (every payload has `ticket_id`):
- TICKET_CREATED
- STATUS_CHANGED: old, new, actor_id, at
- ASSIGNMENT_CHANGED: old_team_id, new_team_id, old_tier, new_tier, old_assignee_id,
  new_assignee_id, actor_id, at
- PRIORITY_CHANGED: old, new, actor_id, at
(`at` is the ticket's version after the change, unique per change: a dedupe key.)
- PUBLIC_REPLY_ADDED: comment_id, by_requester (bool)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

TICKET_CREATED = "ticket_created"
STATUS_CHANGED = "status_changed"
ASSIGNMENT_CHANGED = "assignment_changed"
PRIORITY_CHANGED = "priority_changed"
PUBLIC_REPLY_ADDED = "public_reply_added"
EVENTS = (TICKET_CREATED, STATUS_CHANGED, ASSIGNMENT_CHANGED, PRIORITY_CHANGED, PUBLIC_REPLY_ADDED)

# The wiring: (event, reaction), run in this order for each event. Order matters where one
# reaction reads what another wrote; the comments say why.
WIRING: tuple[tuple[str, str], ...] = (
    # A catalogue request is classified and routed from its service's mapping BEFORE routing,
    # so it skips the classifier (routing then finds it no longer new and leaves it).
    (TICKET_CREATED, "servicecatalog.reactions.on_ticket_created"),
    # Intake: classify, prioritise, route and assign first ...
    (TICKET_CREATED, "routing.reactions.on_ticket_created"),
    # An alert's mapping rule may move it to its own team (overriding routing's choice) ...
    (TICKET_CREATED, "alerts.reactions.on_ticket_created"),
    # ... then start the SLA clocks, once, with the priority and calendar routing settled on.
    (TICKET_CREATED, "sla.reactions.on_ticket_created"),
    # ... then tell the requester it was received (after routing: the receipt is sent once
    # the ticket is in; a failing mail never holds up routing or the clocks).
    (TICKET_CREATED, "notifications.reactions.on_ticket_created"),
    (STATUS_CHANGED, "sla.reactions.on_status_changed"),
    (STATUS_CHANGED, "notifications.reactions.on_status_changed"),
    # Closed: send the satisfaction survey — after SLA has stopped the clocks of the closure.
    (STATUS_CHANGED, "feedback.reactions.on_status_changed"),
    (PRIORITY_CHANGED, "sla.reactions.on_priority_changed"),
    (PUBLIC_REPLY_ADDED, "sla.reactions.on_public_reply"),
    (PUBLIC_REPLY_ADDED, "notifications.reactions.on_public_reply"),
    (ASSIGNMENT_CHANGED, "sla.reactions.on_assignment_changed"),
    # A hand-over to a team: assigned by the team's strategy (the assignment is a change of
    # its own, whose reactions tell the new assignee) ...
    (ASSIGNMENT_CHANGED, "routing.reactions.on_assignment_changed"),
    # ... and whoever this change made the assignee hears it.
    (ASSIGNMENT_CHANGED, "notifications.reactions.on_assignment_changed"),
)

# Before the TICKET_CREATED chains of an intake batch run: work done once for the batch (one
# prediction call of the classifier for all of it) that the chains then find ready. A
# preparation that fails only costs speed: each ticket is then handled on its own.
BEFORE_INTAKE_BATCH: tuple[str, ...] = ("routing.reactions.before_intake_batch",)

# While the desk escalates many tickets at once (an SLA sweep's breaches), the receiving teams'
# strategies choose the hand-overs' assignees in the same transaction, so the escalation and
# the assignment are one UPDATE of each ticket, not two (the second one in a reaction). It only
# chooses (ticket, person, why); the ticket core checks, applies and logs. What it leaves
# (teams assigning by skills or by hand, nobody eligible, or a chooser that failed) the
# ASSIGNMENT_CHANGED reaction assigns afterwards, as it does any hand-over.
HANDOVER_ASSIGNMENT: str = "routing.handovers.choose_for_handovers"

# Batch forms: in the intake drain a reaction runs for the whole batch before the next one
# (reaction-major, each ticket's own order kept), through its batch form when it has one here:
# one transaction and a few queries for the batch instead of a transaction and a dozen queries
# per ticket. A batch form takes `payloads` (a list) and returns {index: exception} for the
# payloads whose work it rolled back; if it raises, that reaction runs one payload at a time.
BATCH_FORMS: dict[str, str] = {
    "servicecatalog.reactions.on_ticket_created": "servicecatalog.reactions.on_tickets_created",
    "routing.reactions.on_ticket_created": "routing.reactions.on_tickets_created",
    "alerts.reactions.on_ticket_created": "alerts.reactions.on_tickets_created",
    "sla.reactions.on_ticket_created": "sla.reactions.on_tickets_created",
    "notifications.reactions.on_ticket_created": "notifications.reactions.on_tickets_created",
    "sla.reactions.on_status_changed": "sla.reactions.on_statuses_changed",
    "notifications.reactions.on_status_changed": "notifications.reactions.on_statuses_changed",
    "feedback.reactions.on_status_changed": "feedback.reactions.on_statuses_changed",
    "sla.reactions.on_assignment_changed": "sla.reactions.on_assignments_changed",
    "routing.reactions.on_assignment_changed": "routing.reactions.on_assignments_changed",
    "notifications.reactions.on_assignment_changed": (
        "notifications.reactions.on_assignments_changed"
    ),
}

# A bulk change of many tickets (a major incident's recovery resolving thousands of linked
# tickets, `reactions.fire_many`) runs its chain this many tickets at a time: bounded locks,
# transactions and memory.
BATCH_CHUNK = 500

Reaction = Callable[..., None]
BatchForm = Callable[..., "dict[int, BaseException] | None"]
_chains: dict[str, list[tuple[str, Reaction]]] | None = None
_batch_forms: dict[str, BatchForm] = {}
_local = threading.local()


def load() -> dict[str, list[tuple[str, Reaction]]]:
    """Import every reaction of the wiring table (at `TicketsConfig.ready()`, so a wrong path
    fails at start-up, not on the first ticket)."""
    global _chains
    chains: dict[str, list[tuple[str, Reaction]]] = {event: [] for event in EVENTS}
    for event, path in WIRING:
        if event not in chains:
            raise ValueError(f"unknown ticket event {event!r} in the wiring of {path}")
        chains[event].append((path, import_string(path)))
    _batch_forms.update({path: import_string(form) for path, form in BATCH_FORMS.items()})
    import_string(HANDOVER_ASSIGNMENT)
    _chains = chains
    return chains


def prepare_intake_batch(ticket_ids: list[int]) -> None:
    """Run the BEFORE_INTAKE_BATCH preparations (inside `batch()`); never raises."""
    for path in BEFORE_INTAKE_BATCH:
        try:
            import_string(path)(ticket_ids=ticket_ids)
        except Exception:
            logger.exception("intake batch preparation %s failed", path)


def choose_handover_assignees(tickets: list) -> list[tuple]:
    """HANDOVER_ASSIGNMENT's choices for these hand-overs (locked, already moved in memory), in
    a savepoint; never raises: on failure nothing is chosen and the reaction assigns later."""
    try:
        with transaction.atomic():
            return list(import_string(HANDOVER_ASSIGNMENT)(tickets=tickets))
    except Exception:
        logger.exception("choosing the assignees of %d hand-overs failed", len(tickets))
        return []


def chain(event: str) -> list[tuple[str, Reaction]]:
    """The reactions of `event` in order, as (dotted path, function)."""
    extra = getattr(_local, "extra", {})
    return [*(_chains or load())[event], *extra.get(event, [])]


def registered() -> dict[str, list[str]]:
    """Every reaction by event, for the README and for tests."""
    return {event: [path for path, _fn in chain(event)] for event in sorted(EVENTS)}


@contextmanager
def wired_for_test(event: str, reaction: Reaction, *, name: str | None = None) -> Iterator[None]:
    """Append `reaction` to `event`'s chain for the duration, in this thread only. For tests
    (a reaction that fails, a reaction that records its calls); production wiring is WIRING."""
    extra = getattr(_local, "extra", {})
    _local.extra = {**extra, event: [*extra.get(event, []), (name or _path(reaction), reaction)]}
    try:
        yield
    finally:
        _local.extra = extra


def _path(reaction: Reaction) -> str:
    return f"{reaction.__module__}.{reaction.__qualname__}"


def run_chain(event: str, payload: dict, *, start_at: str = "") -> tuple[str, BaseException | None]:
    """Run `event`'s reactions in order, from `start_at` (a dotted path; the first when empty
    or no longer wired). Each runs in its own transaction. Stops at the first that raises and
    returns (its path, the exception); ("", None) when all completed."""
    reactions = chain(event)
    names = [path for path, _fn in reactions]
    start = names.index(start_at) if start_at in names else 0
    for path, reaction in reactions[start:]:
        try:
            with transaction.atomic():
                reaction(**payload)
        except Exception as exc:
            logger.exception("reaction %s to %s failed for %s", path, event, payload)
            return path, exc
    return "", None


Failure = tuple[str, BaseException]  # (the reaction that raised, what it raised)


def run_batch(event: str, payloads: list[dict]) -> tuple[dict[int, Failure], list[tuple]]:
    """Run `event`'s chain for many payloads, reaction by reaction (the intake drain's way).

    Each reaction runs for every payload still in the race before the next reaction starts,
    so one payload still sees its reactions in the wiring's order. A payload whose reaction
    raised leaves the race (its work in that reaction rolled back, the later ones not run),
    exactly where `run_chain` would have stopped. Events the reactions fire (a status or an
    assignment change) are collected while a reaction runs and then run the same way, each
    payload's in the order they were fired, before the next reaction.

    Returns ({payload index: (failed reaction, exception)}, [(event, payload, failed reaction,
    exception) of fired events whose chain stopped]) for the caller to record for retry.
    """
    failed: dict[int, Failure] = {}
    fired_failures: list[tuple] = []
    racing = list(range(len(payloads)))
    for path, reaction in chain(event):
        if not racing:
            break
        previous = getattr(_local, "fired", None)
        _local.fired = []
        try:
            errors = _run_step(path, reaction, [payloads[i] for i in racing])
        finally:
            fired, _local.fired = _local.fired, previous
        for position, error in errors.items():
            failed[racing[position]] = (path, error)
        racing = [index for position, index in enumerate(racing) if position not in errors]
        fired_failures += _run_fired(fired)
    return failed, fired_failures


def _run_step(path: str, reaction: Reaction, payloads: list[dict]) -> dict[int, BaseException]:
    form = _batch_forms.get(path) if _chains is not None else None
    # A single payload (a ticket taken in without a worker, a retry) runs the reaction itself.
    if form is not None and len(payloads) > 1:
        try:
            with transaction.atomic():
                return dict(form(payloads=payloads) or {})
        except Exception:
            logger.exception("batch form of %s failed; running it one payload at a time", path)
    with transaction.atomic():  # one transaction for the step
        return run_each(reaction, payloads)


def run_each(reaction: Reaction, payloads: list[dict], *, only=None) -> dict[int, BaseException]:
    """For batch forms: `reaction(**payload)` for each payload (those whose ticket is in
    `only`, when given), each in a savepoint, so a failure rolls back that payload's work
    only; returns {index: exception}."""
    errors: dict[int, BaseException] = {}
    for position, payload in enumerate(payloads):
        if only is not None and payload.get("ticket_id") not in only:
            continue
        try:
            with transaction.atomic():
                reaction(**payload)
        except Exception as exc:
            logger.exception("reaction %s failed for %s", _path(reaction), payload)
            errors[position] = exc
    return errors


def _run_fired(fired: list[tuple[str, dict]]) -> list[tuple]:
    """Run collected events in rounds: each round takes every ticket's next event (so a
    ticket's events keep their order) and runs them as batches by event."""
    failures: list[tuple] = []
    while fired:
        this_round: list[tuple[str, dict]] = []
        later: list[tuple[str, dict]] = []
        seen: set = set()
        for event, payload in fired:
            key = payload.get("ticket_id")
            (later if key in seen else this_round).append((event, payload))
            seen.add(key)
        for event in dict.fromkeys(event for event, _payload in this_round):
            payloads = [payload for name, payload in this_round if name == event]
            failed, nested = run_batch(event, payloads)
            failures += [(event, payloads[i], path, exc) for i, (path, exc) in failed.items()]
            failures += nested
        fired = later
    return failures


def collect(event: str, payload: dict) -> bool:
    """Inside `run_batch`: keep a fired event to run with the batch's others; True if kept."""
    fired = getattr(_local, "fired", None)
    if fired is None:
        return False
    fired.append((event, payload))
    return True


def deferred(event: str) -> bool:
    """True when the event's reactions run in a worker: what was just committed is then still
    the ticket's state when the request that committed it answers."""
    in_worker = settings.SERVICEDESK.get("REACTIONS_IN_WORKER", ())
    return event in in_worker and not getattr(_local, "inline", False)


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
