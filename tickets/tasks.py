"""Background work of the ticket core: running reactions in a worker, draining the intake
queue, retrying reactions that failed, closing resolved tickets the requester left unanswered."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from servicedesk.tasks import desk_task

from . import intake, reactions, retries
from .choices import Status
from .models import Ticket
from .services import ticket_auto_close

AUTO_CLOSE_BATCH = 1_000


@desk_task("tickets.run_reactions")
def run_reactions(event: str, payload: dict) -> None:
    """Run the reactions to one ticket event. Each reaction is idempotent (routing leaves a
    ticket that is no longer new alone; SLA timers start once), so a redelivery is harmless;
    a reaction that raises is kept for retry (tickets/retries.py)."""
    reactions.run_now(event, **payload)


@desk_task("tickets.drain_intake")
def drain_intake() -> int:
    """Run the intake reactions of every new ticket that waits for them (tickets/intake.py):
    woken by new tickets, and every minute by beat for whatever a lost message left."""
    return intake.drain()


@desk_task("tickets.retry_reactions")
def retry_reactions() -> int:
    """Resume the chains of reactions that failed and are due again (tickets/retries.py)."""
    return retries.retry_due()


# The name keeps its old `sla.` prefix: task names are the queue's wire format and the beat
# schedule's key, and must not change when the task moves (it lived in sla.tasks).
@desk_task("sla.auto_close_resolved", soft_time_limit=240, time_limit=300)
def auto_close_resolved() -> int:
    """Close resolved tickets the requester left unanswered for N days (the lifecycle service
    re-checks each one under its lock, so running this twice closes nothing twice)."""
    days = settings.SERVICEDESK["AUTO_CLOSE_RESOLVED_AFTER_DAYS"]
    cutoff = timezone.now() - timedelta(days=days)
    ids = list(
        Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff)
        .order_by("resolved_at")
        .values_list("pk", flat=True)[:AUTO_CLOSE_BATCH]
    )
    closed = 0
    for ticket_id in ids:
        if ticket_auto_close(ticket_id=ticket_id) is not None:
            closed += 1
    return closed
