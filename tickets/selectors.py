"""Reads of tickets, always scoped to what the viewer may see.

Visibility (issue #3): a requester sees their own tickets; a manager (or a unit manager) also
their units' tickets and those below; an agent sees their teams' tickets and those assigned to
them, and a dispatcher also the manual triage queue (tickets no team has yet); administrators
(`view_all_tickets`) see all. No view fetches a ticket by an id from a
request without going through `ticket_get`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchRank
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, prefetch_related_objects
from django.db.models.functions import JSONObject
from django.utils.safestring import SafeString

from accounts.choices import Tier
from accounts.models import OrgUnit, Team, User
from accounts.scope import FRONT, scope_sql
from servicedesk.prepared import execute_prepared

from .choices import OPEN_STATUSES, Status
from .compiled import (
    ANY_NUMBER,
    ANY_PERSON,
    ANY_TICKET,
    compiled_tickets,
    page_rows_of_ticket,
)
from .keyset import IdPages
from .models import Attachment, Comment, Ticket, TicketEvent, TicketFollower, TicketSearchDocument
from .permissions import is_requester, team_ids_of, works_on
from .rows import TicketRow, team_members, ticket_rows  # noqa: F401  (the selectors' API)
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
    # Read with the person when they signed in by session (accounts/backends.py).
    rows = getattr(viewer, "_scope_rows", None)
    if rows is None:
        with connection.cursor() as cursor:
            # Prepared once per database session (servicedesk/prepared.py).
            execute_prepared(
                cursor, "tickets_viewer_scope", scope_sql(), {"user": viewer.pk, "front": FRONT}
            )
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
    # getattr, not `viewer.__dict__`: request.user is a SimpleLazyObject, whose own __dict__
    # never holds what was set on the user it wraps (the clause was built on every call).
    scope = getattr(viewer, "_visibility_q", _UNSET)
    if scope is _UNSET:
        scope = viewer._visibility_q = _scope_q(scope_key(viewer))
    return scope


_UNSET = object()


# The permissions the visibility clause reads, in the order `scope_key` lists them.
_SCOPE_PERMS = (
    "accounts.handle_tickets",
    "accounts.dispatch_tickets",
    "accounts.verify_fixes",
    "accounts.log_on_behalf",
    "accounts.inspect_quality",
    "accounts.view_reports",
)


def scope_key(viewer: User) -> tuple:
    """Everything the visibility clause depends on, as a hashable value: the clause is built
    from it alone (`_scope_q`), so two viewers with the same key see the same tickets and a
    query compiled for one key is right for every request with that key. Cached on the user
    for the request."""
    key = getattr(viewer, "_scope_key", None)
    if key is None:
        if viewer.has_perm("accounts.view_all_tickets"):
            key = ("all",)
        else:
            load_viewer_scope(viewer)
            served = served_unit_paths(viewer)
            key = (
                viewer.pk,
                tuple(viewer.has_perm(perm) for perm in _SCOPE_PERMS),
                tuple(sorted(team_ids_of(viewer))),
                tuple(managed_unit_paths(viewer)),
                None if served is None else tuple(served),
            )
        viewer._scope_key = key
    return key


def _scope_q(key: tuple) -> Q | None:
    """The visibility clause of a `scope_key`."""
    if key == ("all",):
        return None
    pk, perms, team_ids, managed, served = key
    handles, dispatches, verifies, logs_on_behalf, inspects, reports = perms
    scope = Q(requester_id=pk)
    if handles:
        scope |= Q(assignee_id=pk)
        if team_ids:
            scope |= Q(team_id__in=list(team_ids))
    if dispatches:
        # New tickets no team has yet: the manual triage queue (人工兜底) every dispatcher works,
        # as `permissions.can_dispatch` says.
        scope |= Q(status=Status.NEW, team__isnull=True)
    if verifies:
        # Back-office fixes wait for a middle-office expert's verification (PRODUCT.md §3),
        # whichever team holds the ticket, as `permissions.can_verify` says.
        scope |= Q(status=Status.PENDING_VERIFICATION)
    for path in managed:
        scope |= Q(unit_path__startswith=path)
    if logs_on_behalf:
        # Front-office agents read (not change) the tickets of the units their teams serve,
        # to answer a caller: lookup by number, requester name, phone or e-mail.
        if served is None:
            return None  # a team that serves every unit: every ticket may be read
        for path in served:
            scope |= Q(unit_path__startswith=path)
    if inspects:
        # QA inspectors read closed tickets (of their units when they have some) to sample.
        closed = Q(status=Status.CLOSED)
        if managed:
            closed &= Q(unit_path__regex=r"^(" + "|".join(map(re.escape, managed)) + ")")
        scope |= closed
    if handles or reports:
        # Followers keep sight of what they touched (and what they chose to follow).
        scope |= Q(pk__in=TicketFollower.objects.filter(user_id=pk).values("ticket_id"))
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


def ticket_list(
    *, viewer: User, filters: TicketFilters | None = None, relations: bool = True
) -> QuerySet[Ticket]:
    """Tickets the viewer may see, filtered, newest first, with the list's relations loaded
    (without them with `relations=False`: for a caller that reads its rows itself, such as
    the queue pages' `ticket_rows`)."""
    queryset = apply_filters(visible_tickets(viewer), filters or TicketFilters(), viewer=viewer)
    if relations:
        queryset = with_list_relations(queryset)
    return queryset.order_by("-id")


def ticket_list_ids(*, viewer: User, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """`ticket_list`'s tickets as `{"id": ...}` rows, newest first: what a page is cut on
    before its rows are read by id (`tickets.api.listing`)."""
    queryset = apply_filters(visible_tickets(viewer), filters or TicketFilters(), viewer=viewer)
    return queryset.order_by("-id").values("id")


def ticket_id_pages(*, viewer: User, select, filters: TicketFilters | None = None) -> IdPages:
    """`ticket_list_ids` for DRF's cursor pagination, its SQL compiled once per process for
    each scope and set of filters, with each page's rows read by `select` (`tickets.keyset`).
    A word search and a unit filter are compiled on every request: their SQL holds what they
    looked up (the unit's path, the words' matches), not only the filters' values."""
    filters = filters or TicketFilters()
    key = None
    if not filters.q.strip() and filters.unit is None:
        values = tuple(tuple(v) if isinstance(v, list) else v for v in vars(filters).values())
        key = ("api_ids", scope_key(viewer), values)
    return IdPages(key, lambda: ticket_list_ids(viewer=viewer, filters=filters), select=select)


def ticket_get(
    *,
    viewer: User,
    ticket_id: int | None = None,
    number: str | None = None,
    with_following: bool = False,
    with_other_tickets: int = 0,
) -> Ticket:
    """One ticket the viewer may see; Ticket.DoesNotExist (a 404) for anything else, so ids
    of other people's tickets do not leak. `with_following`: whether the viewer follows it
    comes with the row (`viewer_follows` then asks no query); `with_other_tickets`: so many of
    the requester's latest other tickets the viewer may see come with it too
    (`requester_other_tickets` then asks no query)."""
    # One row: joining its people and its unit costs nothing. Each further join costs
    # PostgreSQL planning time (all eight joined: 9.8 ms of planning for 0.2 ms of execution at
    # 1,000,000 tickets), so the other relations are read after, and only those the ticket has:
    # the prefetch machinery for a dozen empty relations cost more than the query itself.
    by_number = number is not None

    def build() -> QuerySet[Ticket]:
        queryset = visible_tickets(viewer).select_related(*DETAIL_JOINED)
        if with_following:
            follower = TicketFollower.objects.filter(ticket_id=OuterRef("pk"), user_id=viewer.pk)
            queryset = queryset.annotate(followed_by_viewer=Exists(follower))
        if with_other_tickets:
            # One statement instead of two: PostgreSQL plans the pair in about the time it
            # planned the ticket's alone (EXPLAIN at 1,000,000 tickets), a round trip fewer.
            others = (
                visible_tickets(viewer)
                .filter(requester_id=OuterRef("requester_id"))
                .exclude(pk=OuterRef("pk"))
                .order_by("-id")
                .values(row=JSONObject(id="id", number="number", title="title", status="status"))
            )
            queryset = queryset.annotate(
                other_tickets_of_requester=ArraySubquery(others[:with_other_tickets])
            )
        if by_number:
            return queryset.filter(number=ANY_NUMBER)[:2]
        return queryset.filter(pk=ANY_TICKET)[:2]

    # The viewer's id too: the follower test names them, and viewers who see everything share
    # one scope key.
    key = ("ticket_get", by_number, with_following, with_other_tickets, viewer.pk)
    key += (scope_key(viewer),)
    value = {ANY_NUMBER: str(number)} if by_number else {ANY_TICKET: int(ticket_id)}
    found = compiled_tickets(key, build, value)
    if len(found) != 1:
        raise Ticket.DoesNotExist("No such ticket in the viewer's scope.")
    ticket = found[0]
    if with_other_tickets:
        ticket.other_tickets_loaded = with_other_tickets
        ticket.other_tickets_of_requester = [
            SimpleNamespace(pk=row["id"], **row) for row in ticket.other_tickets_of_requester
        ]
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


def requester_other_tickets(*, viewer: User, ticket: Ticket, limit: int = 5) -> list:
    """The requester's latest other tickets the viewer may see (number, title, status): read
    with the ticket when `ticket_get(with_other_tickets=...)` fetched it."""
    if limit <= getattr(ticket, "other_tickets_loaded", 0):
        return ticket.other_tickets_of_requester[:limit]

    def build() -> QuerySet[Ticket]:
        return (
            visible_tickets(viewer)
            .filter(requester_id=ANY_PERSON)
            .exclude(pk=ANY_TICKET)
            .order_by("-id")
            .only("id", "number", "title", "status")[:limit]
        )

    key = ("requester_other_tickets", limit, scope_key(viewer))
    return compiled_tickets(key, build, {ANY_PERSON: ticket.requester_id, ANY_TICKET: ticket.pk})


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
    """Set the person `field_name` of each row (a model instance or a `PageRow`) from `known`
    (people the caller already has: the ticket's requester and assignee, the viewer) and load
    the others in one query, none when all are known. A ticket's log and conversation are
    nearly all written by those people: joining the user table to 20 rows cost more than
    naming them from what is there."""
    if not rows:
        return
    attname = f"{field_name}_id"
    people = {person.pk: person for person in known if person is not None}
    missing = {getattr(row, attname) for row in rows} - people.keys() - {None}
    if missing:
        people.update(User.objects.in_bulk(missing))
    meta = getattr(rows[0], "_meta", None)
    field = meta.get_field(field_name) if meta is not None else None
    for row in rows:
        person_id = getattr(row, attname)
        person = None if person_id is None else people.get(person_id)
        if field is not None:
            if person_id is not None:
                field.set_cached_value(row, person)
        else:
            setattr(row, field_name, person)


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


def ticket_page_reads(*, viewer: User, ticket: Ticket) -> tuple[list, list, list]:
    """The ticket's log, conversation and files as this viewer may read them (as
    `ticket_timeline`, `ticket_comments` and `ticket_attachments`), as `PageRow`s with the
    models' attribute names, without their people: `attach_known_people` names them."""
    staff = viewer_is_staff_on(ticket, viewer)
    return (
        page_rows_of_ticket(("timeline", staff), lambda pk: _timeline_of(pk, staff), ticket.pk),
        page_rows_of_ticket(("comments", staff), lambda pk: _comments_of(pk, staff), ticket.pk),
        page_rows_of_ticket(
            ("attachments", staff), lambda pk: _attachments_of(pk, staff), ticket.pk
        ),
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
