"""How the SLA engine follows the ticket core (connected in `SlaConfig.ready()`).

Each reaction runs after the ticket's transaction committed (in a transaction of its own,
`tickets.wiring`) and calls one service; in that same transaction it then refreshes the
dashboard's two records for the tickets concerned, last (they take locks): its breached and
at-risk open tickets (`services.sla_summary_refresh`: a clock paused, resumed, met, stopped,
reopened or recalculated, the ticket resolved, closed or moved to another team) and its
decided clocks (`services.sla_decisions_refresh`: a clock met, breached, reopened or
re-prioritised, a ticket moved to another team), so neither lags the timers.
"""

from __future__ import annotations

from tickets.choices import Status
from tickets.models import Ticket

from . import services
from .choices import ACTIVE_TIMER_STATES, Metric
from .models import SlaTimer


def on_ticket_created(*, ticket_id: int, **_payload) -> None:
    services.sla_timers_start(ticket_id=ticket_id)
    _refresh([ticket_id])


def on_tickets_created(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form (intake drain): every new ticket's clocks in a few statements."""
    ticket_ids = [payload["ticket_id"] for payload in payloads]
    restarted = services.sla_timers_start_many(ticket_ids=ticket_ids)
    # New clocks are never flagged: only tickets that had clocks may have a summary to change.
    services.sla_summary_refresh(ticket_ids=restarted)
    services.sla_decisions_refresh(ticket_ids=ticket_ids)
    return {}


def on_status_changed(*, ticket_id: int, old: str, new: str, **_payload) -> None:
    services.sla_timers_on_status(ticket_id=ticket_id, old=old, new=new)
    _refresh([ticket_id])


def on_statuses_changed(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form: one query tells which of the changes can move a clock (the routing of
    an intake batch moves none); only those go through `on_status_changed`."""
    candidates = {
        p["ticket_id"]
        for p in payloads
        if not (p["new"] == Status.QUEUED and p["old"] in (Status.NEW, Status.IN_PROGRESS))
    }
    if not candidates:
        return {}
    # As `_status_concerns_sla` asks per ticket: a first response given while its clock still
    # runs (the clock is met); a change to or from a waiting or finished state (below).
    responded = Ticket.objects.filter(pk__in=candidates, first_response_at__isnull=False)
    concern = set(
        SlaTimer.objects.filter(
            ticket_id__in=responded.values("pk"),
            metric=Metric.FIRST_RESPONSE,
            state__in=ACTIVE_TIMER_STATES,
        ).values_list("ticket_id", flat=True)
    )
    for p in payloads:
        if p["old"] in (Status.PENDING, Status.RESOLVED, Status.CLOSED) or p["new"] in (
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
            Status.PENDING,
        ):
            concern.add(p["ticket_id"])
    concern &= candidates
    if concern:
        # Set-based for the many tickets a bulk change finishes (a major incident's recovery),
        # the one-ticket path for the rest, under the same per-ticket locks.
        services.sla_timers_on_status_many(
            changes=[
                (p["ticket_id"], p["old"], p["new"]) for p in payloads if p["ticket_id"] in concern
            ]
        )
        _refresh(concern)
    return {}


def on_assignments_changed(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form: every tier stint of the batch moved in a few statements (and the
    decided clocks of the tickets counted under their new team)."""
    services.tier_spans_on_assignment_many(
        moves=[(p["ticket_id"], p["new_tier"], p["new_team_id"]) for p in payloads]
    )
    _refresh([p["ticket_id"] for p in payloads if _team_moved(p)])
    return {}


def on_priority_changed(*, ticket_id: int, old: str, new: str, **_payload) -> None:
    services.sla_timers_recalculate(ticket_id=ticket_id, reason="")
    _refresh([ticket_id])


def on_public_reply(*, ticket_id: int, by_requester: bool, **_payload) -> None:
    services.sla_timers_on_public_reply(ticket_id=ticket_id, by_requester=by_requester)
    _refresh([ticket_id])


def on_assignment_changed(
    *, ticket_id: int, new_tier: str, new_team_id: int | None, **payload
) -> None:
    services.tier_span_on_assignment(
        ticket_id=ticket_id, new_tier=new_tier, new_team_id=new_team_id
    )
    if _team_moved({"new_team_id": new_team_id, **payload}):
        _refresh([ticket_id])


def _refresh(ticket_ids) -> None:
    """Both dashboard records of these tickets, the summary first (the same locks)."""
    services.sla_summary_refresh(ticket_ids=ticket_ids)
    services.sla_decisions_refresh(ticket_ids=ticket_ids)


def _team_moved(payload: dict) -> bool:
    """Only a change of team moves decided clocks (an assignee change within the team does
    not); without the old team in the payload, assume it moved."""
    return payload.get("old_team_id", object()) != payload.get("new_team_id")
