"""How routing reacts to the ticket core (connected in `RoutingConfig.ready()`)."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from . import services

logger = logging.getLogger(__name__)


def on_ticket_created(*, ticket_id: int, **payload) -> None:
    """Classify, prioritise, route and assign a new ticket. Never raises: whatever goes wrong,
    the ticket goes to manual triage (人工兜底) and the log says why."""
    try:
        services.routing_auto_route(ticket_id=ticket_id)
    except Exception as exc:
        logger.exception("automatic routing of ticket %s failed", ticket_id)
        services.routing_send_to_triage_safely(
            ticket_id=ticket_id,
            reason=_("Automatic classification failed (%(error)s): sent to manual triage.")
            % {"error": f"{type(exc).__name__}: {exc}"[:300]},
        )


def before_intake_batch(*, ticket_ids: list[int]) -> None:
    """Classify a batch of new tickets with one prediction call per target, before their
    TICKET_CREATED reactions run (call inside `tickets.reactions.batch()`). Never raises: on
    failure each ticket is classified on its own."""
    from . import engine

    engine.prepare_batch(ticket_ids)
