"""Reads of tickets, always scoped to what the viewer may see.

Visibility (issue #3): a requester sees their own tickets; a manager (or a unit manager) also
their units' tickets and those below; an agent sees their teams' tickets and those assigned to
them, and a dispatcher also the manual triage queue (tickets no team has yet); administrators
(`view_all_tickets`) see all. No view fetches a ticket by an id from a
request without going through `ticket_get`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchRank
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, prefetch_related_objects
from django.utils.safestring import SafeString

from accounts.choices import Tier
from accounts.models import OrgUnit, Team, TeamMembership, User

from .choices import OPEN_STATUSES, Status
from .models import Attachment, Comment, Ticket, TicketEvent, TicketFollower, TicketSearchDocument
from .permissions import is_requester, team_ids_of, works_on
from .search import (
    RANK_CANDIDATES,
    SEARCH_PAGE_SIZE,
    highlight,
    lookup_q,
    search_q,
    sees_internal,
    terms_of,
    text_query,
    words_q,
)

LIST_RELATED = ("requester", "assignee", "team", "request_type", "system", "unit")
# How a list page loads LIST_RELATED, measured at 1,000,000 tickets (bench/bench_tickets.py):
# - joining all six made PostgreSQL spend 20–30 ms planning a query it then ran in 1 ms (the
#   planning time grows steeply with the number of joined tables);
# - joining the two people made it join every matching ticket before sorting and cutting the
#   page (4,316 rows joined for a 50-row back-office queue: 100 ms).
# So only the team (a small table) is joined; the people of the page are loaded after the page
# is cut, in one query (`TicketListQuerySet`); the small reference tables in one `id IN (...)`
# query each, skipped when all are empty. A page costs the same queries at any size.
LIST_JOINED = ("team",)
_PERSON_NAME = ("username", "display_name", "first_name", "last_name")
LIST_PREFETCHED = ("request_type", "system", "unit")
DETAIL_JOINED = ("requester", "assignee", *LIST_JOINED, "unit")
DETAIL_PREFETCHED = (
    "request_type",
    "system",
    "category",
    "module",
    "incident",
    "merged_into",
)


def attach_people(tickets: list) -> None:
    """Load the requesters and assignees of `tickets` in one query and cache them on each."""
    if not tickets or not isinstance(tickets[0], Ticket):
        return  # values() / values_list() rows, or nothing
    requester, assignee = Ticket._meta.get_field("requester"), Ticket._meta.get_field("assignee")
    if requester.is_cached(tickets[0]):
        return  # joined by the caller
    ids = {t.requester_id for t in tickets} | {t.assignee_id for t in tickets if t.assignee_id}
    people = User.objects.in_bulk(ids)
    for ticket in tickets:
        requester.set_cached_value(ticket, people.get(ticket.requester_id))
        if ticket.assignee_id is not None:
            assignee.set_cached_value(ticket, people.get(ticket.assignee_id))


class TicketListQuerySet(QuerySet):
    """Tickets whose requesters and assignees are loaded once the rows are fetched (after
    LIMIT), with the prefetches: see LIST_JOINED for why."""

    def _prefetch_related_objects(self) -> None:
        super()._prefetch_related_objects()
        attach_people(self._result_cache)


def with_list_relations(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The relations a ticket list shows (LIST_RELATED), loaded in a constant number of
    queries whatever the page size (at most 5: the rows, the people, three small tables)."""
    listed = TicketListQuerySet(
        model=queryset.model, query=queryset.query.chain(), using=queryset._db
    )
    listed._prefetch_related_lookups = queryset._prefetch_related_lookups
    return listed.select_related(*LIST_JOINED).prefetch_related(*LIST_PREFETCHED)


def load_viewer_scope(viewer: User) -> None:
    """Read the viewer's teams, managed units and served units in one statement and cache
    them on the user for the request (`team_ids_of`, `managed_unit_paths`,
    `served_unit_paths`): every agent page needs the three, and three round trips of a few
    rows each were a tenth of a ticket page's database time."""
    if all(hasattr(viewer, n) for n in ("_team_ids", "_managed_unit_paths", "_served_unit_paths")):
        return
    # Table names from the models, values as parameters.
    tables = {
        "membership": TeamMembership._meta.db_table,
        "managed": User.managed_units.through._meta.db_table,
        "served": Team.served_units.through._meta.db_table,
        "units": OrgUnit._meta.db_table,
        "teams": Team._meta.db_table,
    }
    sql = """
        SELECT 't', team_id, NULL FROM {membership} WHERE user_id = %(user)s
        UNION ALL
        SELECT 'm', NULL, u.path FROM {managed} m JOIN {units} u ON u.id = m.orgunit_id
        WHERE m.user_id = %(user)s
        UNION ALL
        SELECT 's', t.id, u.path FROM {teams} t
        JOIN {membership} tm ON tm.team_id = t.id AND tm.user_id = %(user)s
        LEFT JOIN {served} s ON s.team_id = t.id LEFT JOIN {units} u ON u.id = s.orgunit_id
        WHERE t.tier = %(front)s
    """.format(**tables)  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": viewer.pk, "front": Tier.FRONT})
        rows = cursor.fetchall()
    viewer._team_ids = {team for kind, team, _path in rows if kind == "t"}
    viewer._managed_unit_paths = sorted(path for kind, _team, path in rows if kind == "m")
    served_rows = [path for kind, _team, path in rows if kind == "s"]
    # As `served_unit_paths`: no front-office team → none; one serving every unit → None.
    if not served_rows:
        viewer._served_unit_paths = []
    elif any(path is None for path in served_rows):
        viewer._served_unit_paths = None
    else:
        viewer._served_unit_paths = sorted(set(served_rows))


def visibility_q(viewer: User) -> Q | None:
    """The WHERE clause of what `viewer` may see; None means everything. Built once per
    request (cached on the user, as the scope and the permissions it reads already are): a
    ticket page asks twice."""
    if "_visibility_q" not in viewer.__dict__:
        viewer._visibility_q = _visibility_q(viewer)
    return viewer._visibility_q


def _visibility_q(viewer: User) -> Q | None:
    if viewer.has_perm("accounts.view_all_tickets"):
        return None
    load_viewer_scope(viewer)
    scope = Q(requester_id=viewer.pk)
    if viewer.has_perm("accounts.handle_tickets"):
        scope |= Q(assignee_id=viewer.pk)
        team_ids = team_ids_of(viewer)
        if team_ids:
            scope |= Q(team_id__in=sorted(team_ids))
    if viewer.has_perm("accounts.dispatch_tickets"):
        # New tickets no team has yet: the manual triage queue (人工兜底) every dispatcher works,
        # as `permissions.can_dispatch` says.
        scope |= Q(status=Status.NEW, team__isnull=True)
    if viewer.has_perm("accounts.verify_fixes"):
        # Back-office fixes wait for a middle-office expert's verification (PRODUCT.md §3),
        # whichever team holds the ticket, as `permissions.can_verify` says.
        scope |= Q(status=Status.PENDING_VERIFICATION)
    managed = managed_unit_paths(viewer)
    for path in managed:
        scope |= Q(unit_path__startswith=path)
    if viewer.has_perm("accounts.log_on_behalf"):
        # Front-office agents read (not change) the tickets of the units their teams serve,
        # to answer a caller: lookup by number, requester name, phone or e-mail.
        served = served_unit_paths(viewer)
        if served is None:
            return None  # a team that serves every unit: every ticket may be read
        for path in served:
            scope |= Q(unit_path__startswith=path)
    if viewer.has_perm("accounts.inspect_quality"):
        # QA inspectors read closed tickets (of their units when they have some) to sample.
        closed = Q(status=Status.CLOSED)
        if managed:
            closed &= Q(unit_path__regex=r"^(" + "|".join(map(re.escape, managed)) + ")")
        scope |= closed
    if viewer.has_perm("accounts.handle_tickets") or viewer.has_perm("accounts.view_reports"):
        # Followers keep sight of what they touched (and what they chose to follow).
        scope |= Q(pk__in=TicketFollower.objects.filter(user_id=viewer.pk).values("ticket_id"))
    return scope


def managed_unit_paths(viewer: User) -> list[str]:
    """The tree paths of the units the viewer manages, cached on the user for the request."""
    if not hasattr(viewer, "_managed_unit_paths"):
        viewer._managed_unit_paths = list(viewer.managed_units.values_list("path", flat=True))
    return viewer._managed_unit_paths


def served_unit_paths(viewer: User) -> list[str] | None:
    """The units the viewer's front-office teams serve; None when one of them serves all."""
    if not hasattr(viewer, "_served_unit_paths"):
        rows = list(
            Team.objects.filter(memberships__user=viewer, tier=Tier.FRONT).values_list(
                "pk", "served_units__path"
            )
        )
        if any(path is None for _pk, path in rows) or not rows:
            viewer._served_unit_paths = None if rows else []
        else:
            viewer._served_unit_paths = sorted({path for _pk, path in rows})
    return viewer._served_unit_paths


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
    following: int | None = None  # a user id: the tickets that user follows


def apply_filters(
    queryset: QuerySet[Ticket], filters: TicketFilters, *, viewer: User | None = None
) -> QuerySet[Ticket]:
    """`filters` on `queryset`; `viewer` decides whether words also match internal notes
    (without one, only the public side of tickets is searched)."""
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
    if filters.following is not None:
        queryset = queryset.filter(
            pk__in=TicketFollower.objects.filter(user_id=filters.following).values("ticket_id")
        )
    text = filters.q.strip()
    if text:
        # A ticket number finds that ticket; a requester's user name, e-mail or phone finds
        # their tickets (tier 1 answering a caller); other text matches the words of the
        # ticket's search document (title, description, replies; the desk's side also its
        # internal notes), Chinese and English, through its GIN index (`tickets.search`).
        queryset = queryset.filter(search_q(viewer, text))
    return queryset


def ticket_list(*, viewer: User, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """Tickets the viewer may see, filtered, newest first, with the list's relations loaded."""
    queryset = apply_filters(visible_tickets(viewer), filters or TicketFilters(), viewer=viewer)
    return with_list_relations(queryset).order_by("-id")


def ticket_list_ids(*, viewer: User, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """`ticket_list`'s tickets as `{"id": ...}` rows, newest first: what a page is cut on
    before its rows are read by id (`tickets.api.listing`)."""
    queryset = apply_filters(visible_tickets(viewer), filters or TicketFilters(), viewer=viewer)
    return queryset.order_by("-id").values("id")


class TicketRow:
    """One row of a queue table: the ticket's own columns and its people's names, without a
    model instance (building 50 tickets, each through django-fsm's `__init__`, cost more than
    the rest of the rows' work). `team_id`, `request_type_id`, `system_id` and `unit_id` are
    named by the caller's reference lists."""

    __slots__ = (
        "assignee",
        "badges",
        "created_at",
        "description",
        "number",
        "pk",
        "priority",
        "request_type_id",
        "requester",
        "status",
        "system_id",
        "team_id",
        "tier",
        "title",
        "unit_id",
    )

    def __init__(self, values: tuple) -> None:
        (
            self.pk,
            self.number,
            self.title,
            self.priority,
            self.status,
            self.tier,
            self.created_at,
            self.team_id,
            self.request_type_id,
            self.system_id,
            self.unit_id,
        ) = values[:11]
        self.requester = _person_name(*values[11:15])
        self.assignee = _person_name(*values[15:19]) if values[15] is not None else None
        self.description = values[19] if len(values) > 19 else None
        self.badges = []

    @property
    def id(self) -> int:
        return self.pk


def _person_name(username: str, display_name: str, first_name: str, last_name: str) -> str:
    # As User.__str__.
    return display_name or f"{first_name} {last_name}".strip() or username


_ROW_COLUMNS = (
    "id",
    "number",
    "title",
    "priority",
    "status",
    "tier",
    "created_at",
    "team_id",
    "request_type_id",
    "system_id",
    "unit_id",
    *(f"{who}__{name}" for who in ("requester", "assignee") for name in _PERSON_NAME),
)


def ticket_rows(ids: list[int], *, description: bool = False) -> list[TicketRow]:
    """The queue rows of `ids` (already chosen through the viewer's scope), in that order, in
    one query; with `description` (the search page's snippets) also that."""
    if not ids:
        return []
    columns = (*_ROW_COLUMNS, "description") if description else _ROW_COLUMNS
    found = {
        values[0]: TicketRow(values)
        for values in Ticket.objects.filter(pk__in=ids).order_by().values_list(*columns)
    }
    return [found[pk] for pk in ids if pk in found]


def team_members(team_ids) -> list[tuple[int, str]]:
    """(id, name) of the active members of the teams, by name: whom a team's tickets may be
    assigned to in bulk."""
    members = (
        User.objects.filter(memberships__team_id__in=sorted(team_ids), is_active=True)
        .distinct()
        .order_by("display_name", "username")
        .values_list("pk", *_PERSON_NAME)
    )
    return [(pk, _person_name(*names)) for pk, *names in members]


def ticket_get(
    *,
    viewer: User,
    ticket_id: int | None = None,
    number: str | None = None,
    with_following: bool = False,
) -> Ticket:
    """One ticket the viewer may see; Ticket.DoesNotExist (a 404) for anything else, so ids
    of other people's tickets do not leak. `with_following`: whether the viewer follows it
    comes with the row (`viewer_follows` then asks no query)."""
    # One row: joining its people and its unit costs nothing. Each further join costs
    # PostgreSQL planning time (all eight joined: 9.8 ms of planning for 0.2 ms of execution at
    # 1,000,000 tickets), so the other relations are read after, and only those the ticket has:
    # the prefetch machinery for a dozen empty relations cost more than the query itself.
    queryset = visible_tickets(viewer).select_related(*DETAIL_JOINED)
    if with_following:
        follower = TicketFollower.objects.filter(ticket_id=OuterRef("pk"), user_id=viewer.pk)
        queryset = queryset.annotate(followed_by_viewer=Exists(follower))
    ticket = queryset.get(number=number) if number is not None else queryset.get(pk=ticket_id)
    filled = [name for name in DETAIL_PREFETCHED if getattr(ticket, f"{name}_id") is not None]
    if filled:
        prefetch_related_objects([ticket], *filled)
    # Who logged it is nearly always its requester or its assignee (a phone request taken by
    # the agent who logged it), both joined above: no query for them.
    created_by = Ticket._meta.get_field("created_by")
    for person in (ticket.requester, ticket.assignee):
        if person is not None and person.pk == ticket.created_by_id:
            created_by.set_cached_value(ticket, person)
            break
    else:
        prefetch_related_objects([ticket], "created_by")
    return ticket


def viewer_is_staff_on(ticket: Ticket, viewer: User) -> bool:
    """True when the viewer sees the desk's side of the ticket (internal notes, full log):
    any desk member who may see the ticket at all (the caller fetched it through the viewer's
    scope) — the verifying expert, a follower, tier 1 looking it up for a caller — unless they
    are its requester and do not work on it."""
    if is_requester(ticket, viewer) and not works_on(ticket, viewer):
        return False
    return (
        viewer.has_perm("accounts.handle_tickets")
        or viewer.has_perm("accounts.view_reports")
        or viewer.has_perm("accounts.view_all_tickets")
    )


def viewer_follows(ticket: Ticket, viewer: User) -> bool:
    if hasattr(ticket, "followed_by_viewer"):  # read with the ticket (`ticket_get`)
        return ticket.followed_by_viewer
    return TicketFollower.objects.filter(ticket=ticket, user=viewer).exists()


def attach_known_people(rows: list, field_name: str, known=()) -> None:
    """Set the person `field_name` of each row from `known` (people the caller already has:
    the ticket's requester and assignee, the viewer) and load the others in one query, none
    when all are known. A ticket's log and conversation are nearly all written by those
    people: joining the user table to 20 rows cost more than naming them from what is there."""
    field = rows[0]._meta.get_field(field_name) if rows else None
    if field is None:
        return
    people = {person.pk: person for person in known if person is not None}
    missing = {getattr(row, field.attname) for row in rows} - people.keys() - {None}
    if missing:
        people.update(User.objects.in_bulk(missing))
    for row in rows:
        person_id = getattr(row, field.attname)
        if person_id is not None:
            field.set_cached_value(row, people.get(person_id))


def _timeline_of(ticket_id: int, staff: bool) -> QuerySet[TicketEvent]:
    events = TicketEvent.objects.filter(ticket_id=ticket_id).order_by("id")
    return events if staff else events.filter(is_public=True)


def _comments_of(ticket_id: int, staff: bool) -> QuerySet[Comment]:
    comments = Comment.objects.filter(ticket_id=ticket_id).order_by("id")
    return comments if staff else comments.filter(is_internal=False)


def _attachments_of(ticket_id: int, staff: bool) -> QuerySet[Attachment]:
    attachments = Attachment.objects.filter(ticket_id=ticket_id).order_by("id")
    return attachments if staff else attachments.filter(is_internal=False)


def ticket_timeline(*, viewer: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The operation log as this viewer may read it: the public part for requesters."""
    return _timeline_of(ticket.pk, viewer_is_staff_on(ticket, viewer)).select_related("actor")


def ticket_comments(*, viewer: User, ticket: Ticket) -> QuerySet[Comment]:
    return _comments_of(ticket.pk, viewer_is_staff_on(ticket, viewer)).select_related("author")


def ticket_attachments(*, viewer: User, ticket: Ticket) -> QuerySet[Attachment]:
    """The ticket's files this viewer may see: requesters never see internal ones."""
    staff = viewer_is_staff_on(ticket, viewer)
    return _attachments_of(ticket.pk, staff).select_related("uploaded_by")


# The SQL of a read that differs only by the ticket, compiled once per process:
# key → (model, SQL, parameters with the ticket's id as _ANY_TICKET).
_COMPILED: dict[tuple, tuple] = {}
_ANY_TICKET = -(2**62)  # no ticket has it: marks where the ticket's id goes in the parameters


def _rows_of_ticket(key: tuple, queryset_of: Callable[[int], QuerySet], ticket_id: int) -> list:
    """The rows `queryset_of(ticket_id)` selects. Django compiles a queryset's SQL anew for
    every request; for the ticket page's log, conversation and files that cost as much as
    running them (bench/bench_pages.py). Their SQL differs only by the ticket's id, so it is
    compiled once, by Django, for a placeholder id, and run with the ticket's."""
    if key not in _COMPILED:
        queryset = queryset_of(_ANY_TICKET)
        sql, params = queryset.query.sql_with_params()
        _COMPILED[key] = (queryset.model, sql, params)
    model, sql, params = _COMPILED[key]
    values = [ticket_id if value == _ANY_TICKET else value for value in params]
    return list(model.objects.raw(sql, values))


def ticket_page_reads(*, viewer: User, ticket: Ticket) -> tuple[list, list, list]:
    """The ticket's log, conversation and files as this viewer may read them (as
    `ticket_timeline`, `ticket_comments` and `ticket_attachments`, without their people:
    `attach_known_people` names them)."""
    staff = viewer_is_staff_on(ticket, viewer)
    return (
        _rows_of_ticket(("timeline", staff), lambda pk: _timeline_of(pk, staff), ticket.pk),
        _rows_of_ticket(("comments", staff), lambda pk: _comments_of(pk, staff), ticket.pk),
        _rows_of_ticket(("attachments", staff), lambda pk: _attachments_of(pk, staff), ticket.pk),
    )


def attachment_get(*, viewer: User, attachment_id: int) -> Attachment:
    """One attachment of a ticket the viewer may see (and, if internal, on the desk's side of);
    Attachment.DoesNotExist for anything else, like `ticket_get`."""
    if not 0 < attachment_id < 2**63:
        raise Attachment.DoesNotExist  # cannot be a bigint id
    attachment = (
        Attachment.objects.filter(pk=attachment_id, ticket__in=visible_tickets(viewer))
        .select_related("ticket")
        .get()
    )
    if attachment.is_internal and not viewer_is_staff_on(attachment.ticket, viewer):
        raise Attachment.DoesNotExist
    return attachment


# --- the workspace's search box ---------------------------------------------------------------


@dataclass
class SearchResult:
    """One ranked hit: the ticket, its highlighted title and a highlighted snippet."""

    ticket: TicketRow
    title_html: SafeString
    snippet_html: SafeString
    rank: float


def ticket_search(*, viewer: User, text: str, limit: int = SEARCH_PAGE_SIZE) -> list[SearchResult]:
    """The workspace search box: exact number / requester hits first, then the newest
    RANK_CANDIDATES word matches the viewer may see, ranked (title over description over
    replies over notes), with the matching words highlighted. A fixed number of queries."""
    text = text.strip()[:200]
    if not text:
        return []
    visible = visible_tickets(viewer)
    exact = list(
        visible.filter(lookup_q(text)).order_by("-id").values_list("id", flat=True)[:limit]
    )
    ranked: list[tuple[int, float]] = []
    query = text_query(text)
    if query is not None:
        candidates = list(
            visible.filter(words_q(viewer, text))
            .order_by("-id")
            .values_list("id", flat=True)[:RANK_CANDIDATES]
        )
        if candidates:
            column = "staff" if sees_internal(viewer) else "public"
            ranked = list(
                TicketSearchDocument.objects.filter(ticket_id__in=candidates)
                .annotate(rank=SearchRank(F(column), query))
                .order_by("-rank", "-ticket_id")
                .values_list("ticket_id", "rank")[:limit]
            )
    order = {pk: (0, -pk, 1.0) for pk in exact}
    for pk, rank in ranked:
        order.setdefault(pk, (1, -rank, rank))
    ids = sorted(order, key=lambda pk: order[pk][:2])[:limit]
    if not ids:
        return []
    tickets = {t.pk: t for t in ticket_rows(ids, description=True)}
    terms = terms_of(text)
    return [
        SearchResult(
            ticket=tickets[pk],
            title_html=highlight(tickets[pk].title, terms),
            snippet_html=highlight(tickets[pk].description, terms, width=160),
            rank=round(order[pk][2], 4),
        )
        for pk in ids
        if pk in tickets
    ]
