"""Who may do what to one ticket: small predicates the state machine's `permission=` uses.

The capability (a permission of the user's role, see accounts.roles) says what kind of thing a
person may do; the relation to this ticket (requester, assignee, team member) says whether they
may do it here. `user=None` never passes: system actions skip these checks in the services.

The ticket model declares these predicates on its transitions, so this module sits below
`tickets.models` and does not import it: a predicate reads only the ticket's parties, which
`TicketParties` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from accounts.models import User


class TicketParties(Protocol):
    """What a permission predicate reads of a ticket: who asked, who owns it, which team."""

    requester_id: int | None
    assignee_id: int | None
    team_id: int | None


def team_ids_of(user: User) -> set[int]:
    """The ids of the user's teams, cached on the user object for the request."""
    if not hasattr(user, "_team_ids"):
        user._team_ids = set(user.memberships.values_list("team_id", flat=True))
    return user._team_ids


def is_requester(ticket: TicketParties, user: User | None) -> bool:
    return user is not None and user.is_authenticated and ticket.requester_id == user.pk


def works_on(ticket: TicketParties, user: User | None) -> bool:
    """An agent who owns the ticket, is in its team, or may see every ticket."""
    if user is None or not user.is_authenticated or not user.has_perm("accounts.handle_tickets"):
        return False
    if ticket.assignee_id == user.pk or user.has_perm("accounts.view_all_tickets"):
        return True
    return ticket.team_id is not None and ticket.team_id in team_ids_of(user)


def can_work(ticket: TicketParties, user: User | None) -> bool:
    return works_on(ticket, user)


def can_dispatch(ticket: TicketParties, user: User | None) -> bool:
    if user is None or not user.has_perm("accounts.dispatch_tickets"):
        return False
    # New tickets sit in the manual triage queue, which every dispatcher works.
    return ticket.team_id is None or works_on(ticket, user)


def can_resolve(ticket: TicketParties, user: User | None) -> bool:
    return works_on(ticket, user) and user.has_perm("accounts.resolve_tickets")


def can_verify(ticket: TicketParties, user: User | None) -> bool:
    return user is not None and user.has_perm("accounts.verify_fixes")


def can_answer_for_requester(ticket: TicketParties, user: User | None) -> bool:
    """The requester, or an agent working the ticket on their behalf (phone, IM)."""
    return is_requester(ticket, user) or works_on(ticket, user)


def can_cancel(ticket: TicketParties, user: User | None) -> bool:
    return is_requester(ticket, user) or works_on(ticket, user)


def can_merge(ticket: TicketParties, user: User | None) -> bool:
    return works_on(ticket, user)


def system_only(ticket: TicketParties, user: User | None) -> bool:
    """Transitions only the desk itself makes (auto-close, incident resolution)."""
    return False
