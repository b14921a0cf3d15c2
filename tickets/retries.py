"""Reactions that failed: retried with backoff, then parked where an administrator sees them.

A failed chain is one `ReactionRetry` row: the event, its payload and the reaction to resume
from (those before it completed, so a retry never runs them twice). Attempt n waits
`BACKOFF_SECONDS * 3**(n-1)`, at most an hour; after `REACTION_MAX_ATTEMPTS` the row is
parked: visible in the admin (with a "retry now" action) and counted on `/healthz`.

New tickets are the intake queue's: their row keeps the ticket due in the intake queue
(`intake_due_at` = the next attempt), so the drain that claims it resumes the chain and the
ticket is released only once every intake reaction has run. Other events are retried by the
beat job `tickets.retry_reactions`, which locks each due row, re-checks it and runs it: running
it twice, or two at once, changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from servicedesk.tasks import enqueue_by_name

from .models import ReactionRetry, Ticket
from .wiring import TICKET_CREATED, run_batch, run_chain

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = 10
MAX_BACKOFF = timedelta(hours=1)
RETRY_BATCH = 200
ERROR_MAX_LENGTH = 2_000


def max_attempts() -> int:
    return int(settings.SERVICEDESK.get("REACTION_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 10 s, 30 s, 90 s, ... at most an hour."""
    return min(timedelta(seconds=BACKOFF_SECONDS * 3 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _describe(error: BaseException | None) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH] if error else ""


def _fail(row: ReactionRetry, reaction: str, error: BaseException | None, now: datetime) -> None:
    """Count one more failed attempt on `row` (unsaved): due again after the backoff, or parked."""
    row.reaction = reaction
    row.attempts += 1
    row.last_error = _describe(error)
    row.updated_at = now
    if row.attempts >= max_attempts():
        row.state, row.next_attempt_at = ReactionRetry.State.PARKED, None
        logger.error(
            "reaction %s to %s for ticket %s parked after %d attempts",
            reaction,
            row.event,
            row.ticket_id,
            row.attempts,
        )
    else:
        row.state, row.next_attempt_at = ReactionRetry.State.RETRYING, now + backoff(row.attempts)


def record_failure(
    *, event: str, payload: dict, reaction: str, error: BaseException | None
) -> ReactionRetry | None:
    """A chain run outside the intake queue stopped at `reaction`: keep it for the retry job.
    Returns None when even this record cannot be written (the database is down): then the
    failure is in the log, the one place left."""
    now = timezone.now()
    row = ReactionRetry(
        event=event, ticket_id=payload["ticket_id"], payload=payload, created_at=now
    )
    _fail(row, reaction, error, now)
    try:
        row.save(force_insert=True)
    except Exception:
        logger.critical("could not record failed reaction %s to %s %s", reaction, event, payload)
        return None
    return row


def run_intake(ticket_ids: list[int]) -> list[int]:
    """Run the TICKET_CREATED chain of each ticket (resuming where an earlier attempt stopped);
    return the ids whose chain completed. The others stay due in the intake queue until their
    next attempt, or leave it parked.

    Fresh tickets run together, reaction by reaction (`wiring.run_batch`: one transaction and
    the reactions' batch forms per step); a ticket resuming a failed chain runs on its own.
    """
    if not ticket_ids:
        return []
    open_rows = {
        row.ticket_id: row
        for row in ReactionRetry.objects.filter(
            event=TICKET_CREATED,
            ticket_id__in=ticket_ids,
            state__in=[ReactionRetry.State.RETRYING, ReactionRetry.State.PARKED],
        )
    }
    fresh = [ticket_id for ticket_id in ticket_ids if ticket_id not in open_rows]
    outcome: dict[int, tuple[str, BaseException | None]] = {}
    if fresh:
        failed, fired_failures = run_batch(TICKET_CREATED, [{"ticket_id": t} for t in fresh])
        outcome = {fresh[index]: failure for index, failure in failed.items()}
        for event, payload, reaction, error in fired_failures:
            record_failure(event=event, payload=payload, reaction=reaction, error=error)
    completed = []
    for ticket_id in ticket_ids:
        row = open_rows.get(ticket_id)
        if row is not None:
            failed_at, error = run_chain(
                TICKET_CREATED, {"ticket_id": ticket_id}, start_at=row.reaction
            )
        else:
            failed_at, error = outcome.get(ticket_id, ("", None))
        now = timezone.now()
        if not failed_at:
            completed.append(ticket_id)
            if row is not None:
                row.state, row.next_attempt_at, row.updated_at = ReactionRetry.State.DONE, None, now
                row.save(update_fields=["state", "next_attempt_at", "updated_at"])
            continue
        if row is None:
            row = ReactionRetry(
                event=TICKET_CREATED,
                ticket_id=ticket_id,
                payload={"ticket_id": ticket_id},
                created_at=now,
            )
        _fail(row, failed_at, error, now)
        with transaction.atomic():
            row.save()
            Ticket.objects.filter(pk=ticket_id).update(intake_due_at=row.next_attempt_at)
    return completed


def due_ids(*, now: datetime | None = None, limit: int = RETRY_BATCH) -> list[int]:
    """Rows (other than intake's) whose next attempt is due, through the partial index."""
    return list(
        ReactionRetry.objects.filter(
            state=ReactionRetry.State.RETRYING, next_attempt_at__lte=now or timezone.now()
        )
        .exclude(event=TICKET_CREATED)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def retry_one(*, retry_id: int) -> bool:
    """Lock the row, re-check that it is still due, resume its chain; True when it completed.
    Running it twice, or two workers at once, runs the chain once."""
    with transaction.atomic():
        row = (
            ReactionRetry.objects.select_for_update(skip_locked=True)
            .filter(
                pk=retry_id,
                state=ReactionRetry.State.RETRYING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if row is None:
            return False
        failed, error = run_chain(row.event, row.payload, start_at=row.reaction)
        now = timezone.now()
        if failed:
            _fail(row, failed, error, now)
        else:
            row.state, row.next_attempt_at, row.updated_at = ReactionRetry.State.DONE, None, now
        row.save()
        return not failed


def retry_due() -> int:
    """The beat job: resume every due chain; returns how many completed."""
    return sum(retry_one(retry_id=pk) for pk in due_ids())


def reaction_retry_now(*, retry_ids: list[int]) -> int:
    """An administrator's "retry now" for parked (or waiting) rows: each gets one more attempt
    at once. A new ticket's row puts the ticket back in the intake queue. Returns the count."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            ReactionRetry.objects.select_for_update()
            .filter(pk__in=retry_ids)
            .exclude(state=ReactionRetry.State.DONE)
        )
        for row in rows:
            # One more attempt: a failure parks it again straight away.
            row.attempts = min(row.attempts, max_attempts() - 1)
            row.state, row.next_attempt_at, row.updated_at = ReactionRetry.State.RETRYING, now, now
            row.save(update_fields=["attempts", "state", "next_attempt_at", "updated_at"])
        intake_ids = [row.ticket_id for row in rows if row.event == TICKET_CREATED]
        Ticket.objects.filter(pk__in=intake_ids).update(intake_due_at=now)
        if intake_ids:
            transaction.on_commit(lambda: enqueue_by_name("tickets.drain_intake"))
        if len(intake_ids) < len(rows):
            transaction.on_commit(lambda: enqueue_by_name("tickets.retry_reactions"))
    return len(rows)


def parked_count() -> int:
    """How many failed reactions wait for an administrator (for `/healthz` and metrics)."""
    return ReactionRetry.objects.filter(state=ReactionRetry.State.PARKED).count()
