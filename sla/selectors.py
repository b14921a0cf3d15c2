"""Reads of SLA state for screens: badges, queue filters, the manager dashboard's numbers.

Every function costs a fixed number of queries whatever the number of tickets shown (one for
the badges of a page, aggregates for the dashboard), and the dashboard is scoped to what the
viewer may see through `tickets.selectors.visibility_q`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from accounts.models import User
from servicedesk.prepared import execute_prepared
from tickets.models import Ticket
from tickets.selectors import visibility_q

from .business_time import BusinessCalendar, business_time_between
from .choices import (
    ACTIVE_TIMER_STATES,
    ESCALATING_METRICS,
    BadgeState,
    Metric,
    SummaryFlag,
    TimerState,
)
from .models import (
    BusinessCalendarConfig,
    OlaTarget,
    SlaComplianceDay,
    SlaDecision,
    SlaTicketSummary,
    SlaTimer,
    TierSpan,
)

METRIC_ORDER = [Metric.FIRST_RESPONSE, Metric.RESOLUTION, Metric.PROGRESS_UPDATE]


# Lateness is counted in business time only this far back: beyond it the day-by-day walk of
# the calendar would cost a queue page more than the rest of it, and "breached" with the due
# time on hover says enough.
LATENESS_HORIZON = timedelta(days=31)


@dataclass(frozen=True)
class TimerBadge:
    """What a screen shows for one clock of a ticket: one definition everywhere.

    `state` is one of BadgeState. `remaining` is always business time on the clock (what the
    SLA target counts): what is left before the target is used up, running or paused alike, and
    negative by the business time past it once overdue (None when met, stopped, or overdue for
    longer than LATENESS_HORIZON). `due_at` is the instant the target runs out while the clock
    runs (None while paused: a paused clock has no deadline until it resumes).
    """

    metric: str
    state: str
    due_at: datetime | None
    remaining: timedelta | None
    target: timedelta

    @property
    def metric_label(self) -> str:
        return Metric(self.metric).label

    @property
    def state_label(self) -> str:
        return BadgeState(self.state).label

    @property
    def is_overdue(self) -> bool:
        return self.remaining is not None and self.remaining < timedelta(0)


def _running_remaining(
    timer: SlaTimer, calendar: BusinessCalendar | None, now: datetime
) -> timedelta | None:
    """Business time between now and the deadline (negative past it)."""
    if timer.due_at is None:
        return None
    if calendar is None:
        return timer.due_at - now
    if now <= timer.due_at:
        return business_time_between(calendar, now, timer.due_at)
    if now - timer.due_at > LATENESS_HORIZON:
        return None
    return -business_time_between(calendar, timer.due_at, now)


def _badge(
    timer: SlaTimer, now: datetime, calendar: BusinessCalendar | None = None
) -> TimerBadge | None:
    """The one badge definition every screen shows (queue rows, the ticket page, the portal).
    `calendar` is the timer's business calendar; without it a running clock's time left is
    wall-clock time (only for callers that cannot load it)."""
    if timer.state == TimerState.MET:
        state = BadgeState.BREACHED if timer.breached_at else BadgeState.MET
        return TimerBadge(timer.metric, state, timer.due_at, None, timer.target)
    if timer.state == TimerState.STOPPED:
        if timer.breached_at is None:
            return None  # closed or cancelled before it mattered: nothing to show
        return TimerBadge(timer.metric, BadgeState.BREACHED, timer.due_at, None, timer.target)
    if timer.state == TimerState.PAUSED:
        remaining = timer.target - timer.used
        state = BadgeState.BREACHED if timer.breached_at else BadgeState.PAUSED
        return TimerBadge(timer.metric, state, None, remaining, timer.target)
    remaining = _running_remaining(timer, calendar, now)
    if timer.breached_at:
        state = BadgeState.BREACHED
    elif timer.warned_at:
        state = BadgeState.WARNED
    else:
        state = BadgeState.RUNNING
    return TimerBadge(timer.metric, state, timer.due_at, remaining, timer.target)


class _BadgeRow(NamedTuple):
    """What `_badge` reads of a timer."""

    ticket_id: int
    metric: str
    state: str
    target: timedelta
    used: timedelta
    due_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    calendar_id: int
    calendar_version: datetime


# The latest timer of each metric of each ticket (DISTINCT ON over the ticket's timers,
# newest id first), in `_BadgeRow`'s order.
_BADGE_ROWS_SQL = """
SELECT DISTINCT ON (t.ticket_id, t.metric)
    t.ticket_id, t.metric, t.state, t.target, t.used, t.due_at, t.warned_at, t.breached_at,
    t.calendar_id, c.updated_at
FROM sla_slatimer t
JOIN sla_businesscalendarconfig c ON c.id = t.calendar_id
WHERE t.ticket_id = ANY(%s)
ORDER BY t.ticket_id, t.metric, t.id DESC
"""


def timer_badges(ticket_ids: list[int]) -> dict[int, list[TimerBadge]]:
    """The latest timer of each metric for each ticket, with its calendar, in one query
    (DISTINCT ON; the built calendar is cached per process)."""
    result: dict[int, list[TimerBadge]] = {ticket_id: [] for ticket_id in ticket_ids}
    if not ticket_ids:
        return result
    now = timezone.now()
    # Plain rows, not model instances, and the calendar's version instead of its row: the
    # built calendar is kept per process (`calendar_of`). The statement is written once, not
    # compiled by the ORM per call: every queue page and ticket page pays for this read, and
    # compiling it cost as much as running it.
    with connection.cursor() as cursor:
        # Every queue and ticket page: prepared once per session (servicedesk/prepared.py).
        execute_prepared(cursor, "sla_badge_rows", _BADGE_ROWS_SQL, [list(ticket_ids)])
        rows = cursor.fetchall()
    calendars: dict[int, BusinessCalendar] = {}
    for timer in map(_BadgeRow._make, rows):
        calendar = None
        if timer.state == TimerState.RUNNING:
            calendar = calendars.get(timer.calendar_id)
            if calendar is None:
                calendar = calendars[timer.calendar_id] = BusinessCalendarConfig.calendar_of(
                    timer.calendar_id, timer.calendar_version
                )
        badge = _badge(timer, now, calendar)
        if badge is not None:
            result[timer.ticket_id].append(badge)
    for badges in result.values():
        badges.sort(key=lambda b: METRIC_ORDER.index(b.metric))
    return result


def _at_risk_timers() -> QuerySet[SlaTimer]:
    return SlaTimer.objects.filter(
        ticket_id=OuterRef("pk"),
        state__in=ACTIVE_TIMER_STATES,
        warned_at__isnull=False,
        breached_at__isnull=True,
    )


def _breached_timers() -> QuerySet[SlaTimer]:
    return SlaTimer.objects.filter(
        ticket_id=OuterRef("pk"), state__in=ACTIVE_TIMER_STATES, breached_at__isnull=False
    )


def filter_queue(queryset: QuerySet[Ticket], which: str) -> QuerySet[Ticket]:
    """Narrow a ticket queryset to the at-risk queue (a clock warned, none breached) or the
    breached queue (a clock breached), through the partial indexes on active timers."""
    if which == "breached":
        return queryset.filter(Exists(_breached_timers()))
    if which == "at_risk":
        return queryset.filter(Exists(_at_risk_timers())).exclude(Exists(_breached_timers()))
    raise ValueError(f"unknown SLA queue {which!r}")


def ticket_timers(*, ticket: Ticket) -> QuerySet[SlaTimer]:
    """Every timer of a ticket the caller already may see (fetched through ticket_get)."""
    return SlaTimer.objects.filter(ticket=ticket).select_related("policy", "calendar")


# --- the manager dashboard --------------------------------------------------------------------


@dataclass(frozen=True)
class ComplianceRow:
    """Timers decided (met or breached) in a group, and how many were met in time."""

    key: str
    label: str
    decided: int
    breached: int

    @property
    def met(self) -> int:
        return self.decided - self.breached

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.met / self.decided, 1) if self.decided else None


@dataclass(frozen=True)
class Dashboard:
    date_from: date
    date_to: date
    by_priority: list[ComplianceRow]
    by_team: list[ComplianceRow]
    by_tier: list[ComplianceRow]
    breached: list[Ticket]
    at_risk: list[Ticket]
    breached_count: int
    at_risk_count: int


def _period(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[from 00:00, the day after `to` 00:00) in the desk's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start, end


# Lookups of a viewer's scope that the record of decided clocks answers by itself: it keeps
# each clock's ticket's team and unit (sla.services.decisions).
_DECISION_LOOKUPS = frozenset({"team_id", "team_id__in", "unit_path__startswith"})


def _desk_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))


def _whole_desk_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """[first, stop): the desk's days (settings.TIME_ZONE, the days of `SlaComplianceDay`)
    wholly inside [start, end); None when there is none. The same days as the period unless
    the viewer's time zone is not the desk's."""
    desk = ZoneInfo(settings.TIME_ZONE)
    first = start.astimezone(desk).date()
    if _desk_midnight(first) < start:
        first += timedelta(days=1)
    stop = end.astimezone(desk).date()
    return (first, stop) if first < stop else None


def _split_scope(scope: Q) -> tuple[Q | None, list]:
    """A viewer's scope (an OR of conditions on the ticket) as (the part on team and unit, the
    other conditions): the first is asked of the decided clocks directly, the others through
    tickets."""
    if scope.negated or (scope.connector != Q.OR and len(scope.children) > 1):
        return None, [scope]
    by_record = [c for c in scope.children if isinstance(c, tuple) and c[0] in _DECISION_LOOKUPS]
    rest = [c for c in scope.children if not (isinstance(c, tuple) and c[0] in _DECISION_LOOKUPS)]
    return (Q(*by_record, _connector=Q.OR) if by_record else None), rest


def _decided_cells(scope: Q | None, start: datetime, end: datetime) -> list[dict]:
    """Decided clocks started in [start, end) that the scope may see, counted per (priority,
    team): {priority, team_id, decided, breached} (a cell may come twice; the caller sums).

    Everything: the per-day sums for the desk's whole days of the period, the record of each
    clock only for the hours at its edges (a viewer in another time zone). A scoped viewer:
    the record of each clock, by team and unit where the scope says so (an index on the unit
    path), and through the few tickets the rest of the scope names (followed, requested...).
    Two queries at most; none reads the timer or ticket tables' rows of the period."""
    decisions = SlaDecision.objects.filter(metric__in=ESCALATING_METRICS)
    cells: list[dict] = []

    def count(rows: QuerySet[SlaDecision]) -> None:
        cells.extend(
            rows.values("priority", "team_id").annotate(
                # Counts of columns the indexes include: answered from the index alone.
                decided=Count("*"),
                breached=Count("breached", filter=Q(breached=True)),
            )
        )

    period = Q(started_at__gte=start, started_at__lt=end)
    if scope is None:
        days = _whole_desk_days(start, end)
        if days is not None:
            cells.extend(
                SlaComplianceDay.objects.filter(
                    day__gte=days[0], day__lt=days[1], metric__in=ESCALATING_METRICS
                )
                .values("priority", "team_id")
                .annotate(decided=Sum("decided"), breached=Sum("breached"))
            )
            head, tail = _desk_midnight(days[0]), _desk_midnight(days[1])
            period = Q(started_at__gte=start, started_at__lt=head) | Q(
                started_at__gte=tail, started_at__lt=end
            )
            if head == start and tail == end:
                period = None
        if period is not None:
            count(decisions.filter(period))
        return [cell for cell in cells if cell["decided"]]
    by_record, rest = _split_scope(scope)
    if by_record is not None:
        count(decisions.filter(period).filter(by_record))
    if rest:
        # One SELECT per condition, UNION ALL'ed: each is answered by its own index (the
        # requester's, the followers' table); OR'ed in one WHERE they made PostgreSQL read
        # every ticket. A ticket may come twice; IN counts its clocks once.
        parts = []
        for condition in rest:
            tickets = Ticket.objects.filter(Q(condition))
            if by_record is not None:
                tickets = tickets.exclude(by_record)  # counted above: each clock counts once
            parts.append(tickets.order_by().values("pk"))
        named = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        count(decisions.filter(period, ticket_id__in=named))
    return [cell for cell in cells if cell["decided"]]


def sla_compliance(
    *, viewer: User, date_from: date, date_to: date, list_limit: int = 50
) -> Dashboard:
    """SLA compliance for timers started in the period, per priority and per team (the
    ticket's current team), OLA compliance per tier for tier stints ended in it, and the
    first `list_limit` breached and at-risk open tickets. A fixed number of queries."""
    from accounts.choices import Tier
    from accounts.models import Team
    from tickets.choices import Priority

    start, end = _period(date_from, date_to)
    scope = visibility_q(viewer)
    # One pass over the period's decided clocks, grouped by priority and team together; the
    # two tables are the sums of its cells.
    cells = _decided_cells(scope, start, end)
    per_priority: dict[str, list[int]] = {}
    per_team: dict[int | None, list[int]] = {}
    for cell in cells:
        for totals in (
            per_priority.setdefault(cell["priority"], [0, 0]),
            per_team.setdefault(cell["team_id"], [0, 0]),
        ):
            totals[0] += cell["decided"]
            totals[1] += cell["breached"]
    by_priority = sorted(
        (
            ComplianceRow(str(key), Priority(key).label, n_decided, n_breached)
            for key, (n_decided, n_breached) in per_priority.items()
        ),
        key=lambda r: r.label,
    )
    team_rows = [
        {"ticket__team_id": key, "decided": n_decided, "breached": n_breached}
        for key, (n_decided, n_breached) in per_team.items()
    ]
    names = {
        team.pk: team.label
        for team in Team.objects.filter(
            pk__in=[r["ticket__team_id"] for r in team_rows if r["ticket__team_id"]]
        )
    }
    by_team = sorted(
        (
            ComplianceRow(
                str(r["ticket__team_id"] or ""),
                names.get(r["ticket__team_id"], "—"),
                r["decided"],
                r["breached"],
            )
            for r in team_rows
        ),
        key=lambda r: r.label,
    )

    spans = TierSpan.objects.filter(
        ended_at__gte=start, ended_at__lt=end, business_time__isnull=False
    )
    if scope is not None:
        spans = spans.filter(ticket__in=Ticket.objects.filter(scope).values("pk"))
    ola = OlaTarget.objects.filter(tier=OuterRef("tier"), priority=OuterRef("priority"))
    tier_rows = (
        spans.annotate(ola=Subquery(ola.values("target")[:1]))
        .filter(ola__isnull=False)
        .values("tier")
        .annotate(
            decided=Count("id"),
            breached=Count("id", filter=Q(business_time__gt=Subquery(ola.values("target")[:1]))),
        )
    )
    by_tier = sorted(
        (
            ComplianceRow(r["tier"], Tier(r["tier"]).label, r["decided"], r["breached"])
            for r in tier_rows
        ),
        key=lambda r: list(Tier.values).index(r.key),
    )

    lists, counts = _flagged_open_tickets(scope, list_limit)
    return Dashboard(
        date_from=date_from,
        date_to=date_to,
        by_priority=by_priority,
        by_team=by_team,
        by_tier=by_tier,
        breached=lists["breached"],
        at_risk=lists["at_risk"],
        breached_count=counts["breached"],
        at_risk_count=counts["at_risk"],
    )


_LISTED_FIELDS = (
    "number",
    "title",
    "priority",
    "status",
    "team__name",
    "team__name_zh",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__display_name",
)


def _summary_where(condition: Q) -> tuple[str, list]:
    """A condition on `SlaTicketSummary` as SQL for the hand-written query below (compiled
    once, used by every part of it: compiling a queryset per part cost more Python than the
    query took)."""
    query = SlaTicketSummary.objects.filter(condition).query
    try:
        sql, params = query.get_compiler(using="default").compile(query.where)
    except EmptyResultSet:  # e.g. `team_id__in=[]`: matches nothing
        return "FALSE", []
    except FullResultSet:
        return "TRUE", []
    return sql, list(params)


def _summary_scope(scope: Q) -> tuple[tuple[str, list], tuple[str, list] | None]:
    """A viewer's scope as conditions on the summary of flagged tickets: (the team and unit
    part, asked of the rows' own columns: the ticket's as of the last refresh; the rest of the
    scope (own requests, assigned, followed, ...): the tickets it names, one SELECT per
    condition, each answered by its own index, UNION ALL'ed: a hashed set in the plan)."""
    by_record, rest = _split_scope(scope)
    record = _summary_where(by_record) if by_record is not None else ("FALSE", [])
    if not rest:
        return record, None
    parts = [Ticket.objects.filter(Q(c)).order_by().values("pk") for c in rest]
    named = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return record, _summary_where(Q(ticket_id__in=named))


_LISTED = """(SELECT flag, ticket_id, due_at, NULL::bigint FROM sla_slaticketsummary
WHERE flag = %s AND ({}) ORDER BY due_at, ticket_id LIMIT %s)"""
_COUNTED = """(SELECT %s, NULL::bigint, NULL::timestamptz, count(*) FROM sla_slaticketsummary
WHERE flag = %s AND ({}))"""


def _flagged_open_tickets(
    scope: Q | None, list_limit: int
) -> tuple[dict[str, list[Ticket]], dict[str, int]]:
    """The breached and at-risk open tickets the viewer may see: how many, and the first
    `list_limit` of each by their earliest active due time (then id), in two queries.

    Read from the summary the SLA services keep of every open ticket with a warned or
    breached active clock (`SlaTicketSummary`, services/summary.py): each list is an index scan
    of its flag's first rows in order (`sla_summary_list`; a scoped viewer's filters the same
    scan on the team and unit it includes and stops at the limit), each count an index-only
    count per flag (a scoped viewer's: its team and unit part from `sla_summary_unit` /
    `sla_summary_team`, the few other tickets its scope names by primary key). One query for
    all of them. Aggregating every flagged ticket's clocks at read time cost 240-420 ms for a
    60,000-ticket backlog (issue #19 item 4).
    """
    if scope is None:
        listed = counted = [("TRUE", [])]
    else:
        record, named = _summary_scope(scope)
        listed = [record]
        counted = [record]
        if named is not None:
            # Each ticket counted once: the named ones outside the team and unit part.
            listed = [(f"({record[0]}) OR ({named[0]})", record[1] + named[1])]
            counted.append((f"({named[0]}) AND ({record[0]}) IS NOT TRUE", named[1] + record[1]))
    # One round trip: each list's rows with no count, then each count with no ticket. The
    # conditions are Django's SQL, the values parameters. PostgreSQL sorts NULL (every clock
    # paused) last in ascending order, as the index does and the queue pages do.
    parts, params = [], []
    for flag in SummaryFlag if list_limit > 0 else ():
        for where, where_params in listed:
            parts.append(_LISTED.format(where))
            params += [str(flag), *where_params, list_limit]
    for flag in SummaryFlag:
        for where, where_params in counted:
            parts.append(_COUNTED.format(where))
            params += [str(flag), str(flag), *where_params]
    sql = " UNION ALL ".join(parts)
    top: dict[str, list[int]] = {"breached": [], "at_risk": []}
    counts = {"breached": 0, "at_risk": 0}
    due_of = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for flag, ticket_id, due, total in cursor.fetchall():
            if total is not None:
                counts[flag] += total
            else:
                top[flag].append(ticket_id)
                due_of[ticket_id] = due
    for ids in top.values():  # each list's order, whatever order UNION ALL returns them in
        ids.sort(key=lambda pk: (due_of[pk] is None, due_of[pk] or 0, pk))
    wanted = [pk for ids in top.values() for pk in ids]
    # Only what the lists show (and the state machine's field, read when a ticket is built):
    # a third of the time building 100 tickets with their team and assignee went to the
    # columns nobody reads.
    tickets = (
        Ticket.objects.select_related("team", "assignee").only(*_LISTED_FIELDS).in_bulk(wanted)
        if wanted
        else {}
    )
    lists = {}
    for which, ids in top.items():
        lists[which] = [tickets[pk] for pk in ids if pk in tickets]  # deleted since
        for ticket in lists[which]:
            ticket.sla_due_at = due_of[ticket.pk]
    return lists, counts
