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

# Batch forms: a reaction that can follow the same event of many tickets at once (set-based,
# e.g. a major incident's recovery resolving thousands of linked tickets), next to the
# one-ticket reaction of WIRING it stands for. `run_chain_many` runs the chain in WIRING's
# order, calling the batch form where there is one and the one-ticket reaction otherwise; a
# batch form that raises is replaced by the one-ticket reaction for each ticket of the batch,
# so a failure is recorded (and retried) per ticket, exactly as for a single change.
# A batch form handles at most this many changes per transaction (bounded locks and work).
BATCH_CHUNK = 500
BATCH_FORMS: dict[str, str] = {
    "sla.reactions.on_status_changed": "sla.reactions.on_status_changed_many",
    "notifications.reactions.on_status_changed": "notifications.reactions.on_status_changed_many",
    "feedback.reactions.on_status_changed": "feedback.reactions.on_status_changed_many",
}

# Before the TICKET_CREATED chains of an intake batch run: work done once for the batch (one
# prediction call of the classifier for all of it) that the chains then find ready. A
# preparation that fails only costs speed: each ticket is then handled on its own.
BEFORE_INTAKE_BATCH: tuple[str, ...] = ("routing.reactions.before_intake_batch",)

Reaction = Callable[..., None]
_chains: dict[str, list[tuple[str, Reaction]]] | None = None
_batch_forms: dict[str, Reaction] | None = None
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
    _load_batch_forms(chains)
    _chains = chains
    return chains


def _load_batch_forms(chains: dict[str, list[tuple[str, Reaction]]]) -> dict[str, Reaction]:
    global _batch_forms
    wired = {path for reactions in chains.values() for path, _fn in reactions}
    for path in BATCH_FORMS:
        if path not in wired:
            raise ValueError(f"batch form given for {path}, which is not in the wiring")
    _batch_forms = {path: import_string(many) for path, many in BATCH_FORMS.items()}
    return _batch_forms


def prepare_intake_batch(ticket_ids: list[int]) -> None:
    """Run the BEFORE_INTAKE_BATCH preparations (inside `batch()`); never raises."""
    for path in BEFORE_INTAKE_BATCH:
        try:
            import_string(path)(ticket_ids=ticket_ids)
        except Exception:
            logger.exception("intake batch preparation %s failed", path)


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


def run_chain_many(
    event: str, payloads: list[dict]
) -> list[tuple[dict, str, BaseException | None]]:
    """Run `event`'s chain for many tickets' changes at once (the batch entry point): each
    reaction in WIRING's order, its batch form (BATCH_FORMS) in one transaction per
    BATCH_CHUNK payloads still going, or the one-ticket reaction in a transaction per
    payload. A payload whose reaction raised leaves the batch there. Returns (payload,
    reaction path, exception) for each payload whose chain stopped, so it is resumed from
    that reaction alone."""
    if _chains is None:
        load()
    going = list(payloads)
    stopped: list[tuple[dict, str, BaseException | None]] = []
    for path, reaction in chain(event):
        if not going:
            break
        many = (_batch_forms or {}).get(path)
        still, one_by_one = [], going
        if many is not None:
            one_by_one = []
            for start in range(0, len(going), BATCH_CHUNK):
                part = going[start : start + BATCH_CHUNK]
                try:
                    with transaction.atomic():
                        many(payloads=part)
                    still += part
                except Exception:
                    # One ticket at a time below: a bad ticket then holds up only itself.
                    logger.exception("batch reaction %s to %s failed", path, event)
                    one_by_one += part
        for payload in one_by_one:
            try:
                with transaction.atomic():
                    reaction(**payload)
            except Exception as exc:
                logger.exception("reaction %s to %s failed for %s", path, event, payload)
                stopped.append((payload, path, exc))
                continue
            still.append(payload)
        going = still
    return stopped


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
