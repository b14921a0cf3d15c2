"""Reads of tickets, always scoped to what the viewer may see.

Visibility (issue #3): a requester sees their own tickets; a manager (or a unit manager) also
their units' tickets and those below; an agent sees their teams' tickets and those assigned to
them; administrators (`view_all_tickets`) see all. No view fetches a ticket by an id from a
request without going through `ticket_get`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from accounts.models import User

from .choices import OPEN_STATUSES
from .models import Comment, Ticket, TicketEvent
from .permissions import is_requester, team_ids_of, works_on

LIST_RELATED = ("requester", "assignee", "team", "request_type", "system", "unit")


def visibility_q(viewer: User) -> Q | None:
    """The WHERE clause of what `viewer` may see; None means everything."""
    if viewer.has_perm("accounts.view_all_tickets"):
        return None
    scope = Q(requester_id=viewer.pk)
    if viewer.has_perm("accounts.handle_tickets"):
        scope |= Q(assignee_id=viewer.pk)
        team_ids = team_ids_of(viewer)
        if team_ids:
            scope |= Q(team_id__in=sorted(team_ids))
    for path in viewer.managed_units.values_list("path", flat=True):
        scope |= Q(unit_path__startswith=path)
    return scope


def visible_tickets(viewer: User) -> QuerySet[Ticket]:
    scope = visibility_q(viewer)
    queryset = Ticket.objects.all()
    return queryset if scope is None else queryset.filter(scope)


@dataclass
class TicketFilters:
    """The filters every ticket list (API, agent queues, portal) accepts."""

    status: list[str] = field(default_factory=list)
    open_only: bool = False
    priority: list[str] = field(default_factory=list)
    request_type: list[str] = field(default_factory=list)  # codes
    system: list[int] = field(default_factory=list)
    team: list[int] = field(default_factory=list)
    tier: list[str] = field(default_factory=list)
    unit: int | None = None
    assignee: int | None = None
    unassigned: bool = False
    requester: int | None = None
    needs_triage: bool | None = None
    q: str = ""


def apply_filters(queryset: QuerySet[Ticket], filters: TicketFilters) -> QuerySet[Ticket]:
    if filters.status:
        queryset = queryset.filter(status__in=filters.status)
    elif filters.open_only:
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    if filters.priority:
        queryset = queryset.filter(priority__in=filters.priority)
    if filters.request_type:
        queryset = queryset.filter(request_type__code__in=filters.request_type)
    if filters.system:
        queryset = queryset.filter(system_id__in=filters.system)
    if filters.team:
        queryset = queryset.filter(team_id__in=filters.team)
    if filters.tier:
        queryset = queryset.filter(tier__in=filters.tier)
    if filters.unit is not None:
        from accounts.models import OrgUnit

        path = OrgUnit.objects.filter(pk=filters.unit).values_list("path", flat=True).first()
        queryset = queryset.filter(unit_path__startswith=path) if path else queryset.none()
    if filters.assignee is not None:
        queryset = queryset.filter(assignee_id=filters.assignee)
    if filters.unassigned:
        queryset = queryset.filter(assignee__isnull=True)
    if filters.requester is not None:
        queryset = queryset.filter(requester_id=filters.requester)
    if filters.needs_triage is not None:
        queryset = queryset.filter(needs_triage=filters.needs_triage)
    text = filters.q.strip()
    if text:
        # A ticket number finds that ticket; other text matches the title through the trigram
        # index (substring match, any language).
        queryset = queryset.filter(Q(number__iexact=text) | Q(title__icontains=text))
    return queryset


def ticket_list(*, viewer: User, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """Tickets the viewer may see, filtered, newest first, with the list's relations joined."""
    queryset = apply_filters(visible_tickets(viewer), filters or TicketFilters())
    return queryset.select_related(*LIST_RELATED).order_by("-id")


def ticket_get(*, viewer: User, ticket_id: int | None = None, number: str | None = None) -> Ticket:
    """One ticket the viewer may see; Ticket.DoesNotExist (a 404) for anything else, so ids
    of other people's tickets do not leak."""
    queryset = visible_tickets(viewer).select_related(
        *LIST_RELATED, "category", "module", "created_by", "incident", "merged_into"
    )
    if number is not None:
        return queryset.get(number=number)
    return queryset.get(pk=ticket_id)


def viewer_is_staff_on(ticket: Ticket, viewer: User) -> bool:
    """True when the viewer sees the desk's side of the ticket (internal notes, full log)."""
    if is_requester(ticket, viewer) and not works_on(ticket, viewer):
        return False
    return (
        works_on(ticket, viewer)
        or viewer.has_perm("accounts.view_reports")
        or (viewer.has_perm("accounts.view_all_tickets"))
    )


def ticket_timeline(*, viewer: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The operation log as this viewer may read it: the public part for requesters."""
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor").order_by("id")
    if not viewer_is_staff_on(ticket, viewer):
        events = events.filter(is_public=True)
    return events


def ticket_comments(*, viewer: User, ticket: Ticket) -> QuerySet[Comment]:
    comments = Comment.objects.filter(ticket=ticket).select_related("author").order_by("id")
    if not viewer_is_staff_on(ticket, viewer):
        comments = comments.filter(is_internal=False)
    return comments
