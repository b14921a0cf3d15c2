"""Small builders for the UI tests: tickets in a known place of the lifecycle."""

from __future__ import annotations

from accounts.choices import Tier
from tickets import services


def new_ticket(requester, title="Printer on floor 3 jams", **kwargs):
    ticket, _created = services.ticket_create(
        requester=requester, created_by=requester, title=title, **kwargs
    )
    return ticket


def queued_ticket(requester, team, title="VPN drops every hour", **kwargs):
    ticket = new_ticket(requester, title=title, **kwargs)
    return services.ticket_route(ticket_id=ticket.pk, actor=None, tier=team.tier, team=team)


def closed_ticket(desk, title="Password reset"):
    ticket = queued_ticket(desk.requester, desk.front, title=title)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution="Reset it.")
    return services.ticket_confirm(ticket_id=ticket.pk, actor=desk.requester)


__all__ = ["Tier", "closed_ticket", "new_ticket", "queued_ticket"]
