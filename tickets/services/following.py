"""Following a ticket (watchers): by choice, besides the automatic follow of agents who act."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User

from ..models import Ticket, TicketFollower
from .common import follow_as_actor


@transaction.atomic
def ticket_follow(*, ticket: Ticket, actor: User) -> None:
    """Follow a ticket. Guard: the caller has fetched `ticket` through a selector scoped by
    `actor` (`ticket_get`), so only a ticket the actor may see can be followed. Requesters
    follow their own tickets by being their requester; they cannot follow others'."""
    if actor.pk == ticket.requester_id:
        return
    if not actor.has_perm("accounts.handle_tickets") and not actor.has_perm(
        "accounts.view_reports"
    ):
        raise PermissionDenied(_("Only desk staff can follow tickets."))
    follow_as_actor(ticket, actor)


@transaction.atomic
def ticket_unfollow(*, ticket: Ticket, actor: User) -> None:
    """Stop following; the ticket stays visible only if another scope shows it."""
    TicketFollower.objects.filter(ticket=ticket, user=actor).delete()
