"""How the catalogue reacts to the ticket core (a row in `tickets/wiring.py`, before routing).

A catalogue request already says what it is: the service maps it to a request type, category,
system and team. So it skips the text classifier: this reaction classifies and routes it from
the mapping, and routing's own reaction, which runs next, finds the ticket no longer new and
leaves it alone. What a requester states about impact and urgency alone reaches at most
`SERVICECATALOG["REQUESTER_PRIORITY_CAP"]` (P2 by default); an agent logging it may go higher.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Team
from routing.services import routing_assign_in_team, routing_lock_assignment
from tickets import services as ticket_services
from tickets import wiring
from tickets.choices import Priority, Status
from tickets.models import Ticket

from .models import ServiceRequest

PRIORITY_RANK = {p: i for i, p in enumerate(Priority.values)}  # P1 → 0 … P4 → 3


def priority_for(impact: int, urgency: int) -> str:
    """The desk's impact × urgency matrix (routing owns it; read through its public function)."""
    from routing.engine import priority_for as matrix

    return matrix(impact, urgency)


def capped(priority: str, *, stated_by_requester: bool) -> str:
    cap = settings.SERVICECATALOG["REQUESTER_PRIORITY_CAP"]
    if stated_by_requester and PRIORITY_RANK[priority] < PRIORITY_RANK.get(cap, 1):
        return cap
    return priority


def on_ticket_created(*, ticket_id: int, **payload) -> None:
    """Classify and route a catalogue request from its service's mapping (idempotent: a request
    already routed, or a ticket no longer new, is left alone)."""
    request = (
        ServiceRequest.objects.select_related(
            "service",
            "service__request_type",
            "service__category",
            "service__team",
            "service__sla_policy",
        )
        .filter(ticket_id=ticket_id, routed=False)
        .first()
    )
    if request is None:
        return
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
        request = ServiceRequest.objects.select_for_update().get(pk=request.pk)
        if request.routed or ticket.status != Status.NEW or ticket.needs_triage:
            return
        service = request.service
        stated = request.stated_impact is not None and not request.by_agent
        computed = priority_for(ticket.impact, ticket.urgency)
        priority = capped(computed, stated_by_requester=stated)
        why = _("From the service catalogue: %(service)s") % {"service": service.label}
        if priority != computed:
            why += "; " + _("priority capped at %(cap)s: stated by the requester alone") % {
                "cap": priority
            }
        policy = service.sla_policy
        if policy is not None and (
            not stated or PRIORITY_RANK[policy.priority] < PRIORITY_RANK[priority]
        ):
            # The service's SLA policy sets the level its clocks run at (SLA picks the policy by
            # priority and request type); what the requester states can only make it faster.
            priority = policy.priority
            why += "; " + _("service level %(policy)s") % {"policy": policy.name}
        ticket_services.ticket_classify(
            ticket_id=ticket_id,
            actor=None,
            request_type=service.request_type,
            category=service.category,
            priority=priority,
            confidence=1.0,
            message=why,
            data={"service": service.code},
        )
        team = service.team or (
            Team.objects.filter(tier=service.request_type.entry_tier)
            .order_by("-is_on_duty", "code")
            .first()
        )
        if team is not None:
            ticket_services.ticket_route(
                ticket_id=ticket_id,
                actor=None,
                tier=team.tier,
                team=team,
                reason=why,
                data={"service": service.code},
            )
            # Assigned within the team by its strategy, exactly as routed tickets are.
            routing_assign_in_team(ticket_id=ticket_id, team_id=team.pk)
        request.routed = True
        request.save(update_fields=["routed"])


def on_tickets_created(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form (intake drain): one query finds the batch's catalogue requests; only
    those are routed, each as `on_ticket_created` does."""
    ids = [payload["ticket_id"] for payload in payloads]
    requests = set(
        ServiceRequest.objects.filter(ticket_id__in=ids, routed=False).values_list(
            "ticket_id", flat=True
        )
    )
    if not requests:
        return {}
    routing_lock_assignment()
    return wiring.run_each(on_ticket_created, payloads, only=requests)
