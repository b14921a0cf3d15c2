"""Walk tickets to a point of their lifecycle through the services, for the ticket-core tests.

Reactions (routing, SLA) run only on commit, which the `db` fixture never reaches: tickets stay
exactly where these helpers put them.
"""

from __future__ import annotations

from accounts.models import Team, User
from tickets import services
from tickets.models import Ticket

# Every kind of person of the `desk` fixture, by attribute name.
PEOPLE = (
    "requester",
    "other_requester",
    "tier1",
    "tier2",
    "expert",
    "engineer",
    "outsider_agent",
    "manager",
    "admin",
)


def owner_of(desk, team: Team) -> User:
    return {desk.front.pk: desk.tier1, desk.middle.pk: desk.expert, desk.back.pk: desk.engineer}[
        team.pk
    ]


def opened(desk, *, requester: User | None = None, title: str = "VPN down", **kwargs) -> Ticket:
    requester = requester or desk.requester
    ticket, created = services.ticket_create(
        requester=requester, title=title, created_by=requester, **kwargs
    )
    assert created
    return ticket


def queued(desk, team: Team | None = None, **kwargs) -> Ticket:
    team = team or desk.front
    ticket = opened(desk, **kwargs)
    return services.ticket_route(ticket_id=ticket.pk, actor=None, tier=team.tier, team=team)


def in_progress(desk, team: Team | None = None, agent: User | None = None, **kwargs) -> Ticket:
    team = team or desk.front
    ticket = queued(desk, team, **kwargs)
    return services.ticket_take(ticket_id=ticket.pk, actor=agent or owner_of(desk, team))


def pending_verification(desk, **kwargs) -> Ticket:
    ticket = in_progress(desk, desk.back, **kwargs)
    return services.ticket_resolve(
        ticket_id=ticket.pk, actor=desk.engineer, resolution="Restarted the matching engine."
    )


def resolved(desk, **kwargs) -> Ticket:
    ticket = in_progress(desk, **kwargs)
    return services.ticket_resolve(
        ticket_id=ticket.pk, actor=desk.tier1, resolution="Reinstalled the VPN client."
    )


def closed(desk, **kwargs) -> Ticket:
    ticket = resolved(desk, **kwargs)
    return services.ticket_confirm(ticket_id=ticket.pk, actor=ticket.requester)


def person(desk, name: str) -> User:
    return getattr(desk, name)
