"""How routing reacts to the ticket core (connected in `RoutingConfig.ready()`)."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from tickets import wiring

from . import handovers, services

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


def on_tickets_created(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form (intake drain): the batch routed in bulk (`routing_auto_route_many`),
    the few it leaves one by one, each in a savepoint. Every team's assignment lock is taken
    first, in one ordered query, so two drains assigning in one transaction take turns
    instead of deadlocking."""
    services.routing_lock_assignment()
    rest = services.routing_auto_route_many(ticket_ids=[p["ticket_id"] for p in payloads])
    return wiring.run_each(on_ticket_created, payloads, only=set(rest)) if rest else {}


def on_assignment_changed(
    *, ticket_id: int, old_team_id=None, new_team_id=None, new_assignee_id=None, **_payload
) -> None:
    """A ticket handed from one team to another (dispatch, escalation) and left unassigned is
    assigned by the new team's strategy, exactly as intake assigns. A first routing (no team
    before) is intake's or triage's own business: they assign themselves."""
    if old_team_id is None or new_team_id in (None, old_team_id) or new_assignee_id is not None:
        return
    services.routing_assign_in_team(ticket_id=ticket_id, team_id=new_team_id)


def on_assignments_changed(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form: only hand-overs left unassigned need the new team's strategy."""
    # In the batch's order, so a hand-over assigned later in the same batch needs nothing: the
    # escalation assigns in its own write (tickets.wiring.HANDOVER_ASSIGNMENT) and fires that
    # change right after the move. (One that slips through, a batch cut between the two, is
    # re-checked under the lock and left alone.)
    handed: dict[int, int] = {}
    for p in payloads:
        if p.get("new_assignee_id") is not None:
            handed.pop(p["ticket_id"], None)
        elif p.get("old_team_id") is not None and p.get("new_team_id") not in (
            None,
            p.get("old_team_id"),
        ):
            handed[p["ticket_id"]] = p["new_team_id"]
    if not handed:
        return {}
    # Every hand-over of the batch assigned in bulk; the few it leaves (teams assigning by
    # skills) one by one, each in a savepoint.
    rest = handovers.routing_assign_in_team_many(handovers=handed)
    return wiring.run_each(on_assignment_changed, payloads, only=set(rest)) if rest else {}


def before_intake_batch(*, ticket_ids: list[int]) -> None:
    """Classify a batch of new tickets with one prediction call per target, before their
    TICKET_CREATED reactions run (call inside `tickets.reactions.batch()`). Never raises: on
    failure each ticket is classified on its own."""
    from . import engine

    engine.prepare_batch(ticket_ids)
