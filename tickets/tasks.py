"""Background work of the ticket core: running reactions in a worker."""

from __future__ import annotations

from servicedesk.tasks import desk_task

from . import reactions


@desk_task("tickets.run_reactions")
def run_reactions(event: str, payload: dict) -> None:
    """Run the reactions to one ticket event. Each reaction is idempotent (routing leaves a
    ticket that is no longer new alone; SLA timers start once), so a redelivery is harmless."""
    reactions.run_now(event, **payload)


@desk_task("tickets.drain_intake")
def drain_intake() -> int:
    """Run the intake reactions of every new ticket that waits for them (tickets/intake.py):
    woken by new tickets, and every minute by beat for whatever a lost message left."""
    from . import intake

    return intake.drain()
