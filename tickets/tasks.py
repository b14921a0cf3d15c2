"""Background work of the ticket core: running reactions in a worker, draining the intake
queue and retrying reactions that failed."""

from __future__ import annotations

from servicedesk.tasks import desk_task

from . import intake, reactions, retries


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
