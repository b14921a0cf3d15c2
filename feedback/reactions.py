"""How the feedback app reacts to the ticket core (rows in `tickets/wiring.py`)."""

from __future__ import annotations

from tickets.choices import Status

from . import services


def on_status_changed(*, ticket_id: int, new: str, **payload) -> None:
    """A ticket closed: send its satisfaction survey (once; idempotent)."""
    if new == Status.CLOSED:
        services.survey_send(ticket_id=ticket_id)


def on_status_changed_many(*, payloads: list[dict]) -> None:
    """The batch form (tickets/wiring.py BATCH_FORMS): only closed tickets get a survey, so a
    batch of other changes (a major incident's recovery) costs nothing."""
    for payload in payloads:
        on_status_changed(**payload)
