"""How the feedback app reacts to the ticket core (rows in `tickets/wiring.py`)."""

from __future__ import annotations

from tickets import wiring
from tickets.choices import Status

from . import services


def on_status_changed(*, ticket_id: int, new: str, **payload) -> None:
    """A ticket closed: send its satisfaction survey (once; idempotent)."""
    if new == Status.CLOSED:
        services.survey_send(ticket_id=ticket_id)


def on_statuses_changed(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form: only closures send a survey (none in an intake batch)."""
    closed = {p["ticket_id"] for p in payloads if p["new"] == Status.CLOSED}
    return wiring.run_each(on_status_changed, payloads, only=closed) if closed else {}
