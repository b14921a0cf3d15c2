"""How the SLA engine follows the ticket core (connected in `SlaConfig.ready()`).

Each reaction runs after the ticket's transaction committed and calls one service.
"""

from __future__ import annotations

from . import services


def on_ticket_created(*, ticket_id: int, **_payload) -> None:
    services.sla_timers_start(ticket_id=ticket_id)


def on_status_changed(*, ticket_id: int, old: str, new: str, **_payload) -> None:
    services.sla_timers_on_status(ticket_id=ticket_id, old=old, new=new)


def on_status_changed_many(*, payloads: list[dict]) -> None:
    """The batch form of `on_status_changed` (tickets/wiring.py BATCH_FORMS)."""
    services.sla_timers_on_status_many(
        changes=[(p["ticket_id"], p["old"], p["new"]) for p in payloads]
    )


def on_priority_changed(*, ticket_id: int, old: str, new: str, **_payload) -> None:
    services.sla_timers_recalculate(ticket_id=ticket_id, reason="")


def on_public_reply(*, ticket_id: int, by_requester: bool, **_payload) -> None:
    services.sla_timers_on_public_reply(ticket_id=ticket_id, by_requester=by_requester)


def on_assignment_changed(
    *, ticket_id: int, new_tier: str, new_team_id: int | None, **_payload
) -> None:
    services.tier_span_on_assignment(
        ticket_id=ticket_id, new_tier=new_tier, new_team_id=new_team_id
    )
