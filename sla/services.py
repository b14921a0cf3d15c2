"""Every write of the SLA engine: timers follow the ticket, the sweep warns, breaches and
escalates.

Timers are rows (`SlaTimer`); these services keep them in step with the ticket's life (the
reactions wired in `tickets.wiring` call them after the ticket's transaction commits) and the
sweep's per-timer work marks them exactly once per level:

* lock the row (`select_for_update(skip_locked=True)`: a row another worker holds is simply
  skipped, that worker will handle it), re-check the condition in SQL, set the marker, act,
  in one transaction; deliveries go after commit. A second sweep, a task run twice or redelivered
  after a worker died (acks_late) finds the marker set and does nothing.
* per-ticket reactions serialise on a transaction-scoped advisory lock of the ticket, so two
  reactions to one ticket never interleave (without touching the ticket row itself).

Escalation calls `tickets.services.ticket_escalate_many` (the bulk form of
`ticket_dispatch(..., escalation=True, actor=None)`): the ticket core does the move and logs
it; this module logs the SLA side (`sla.*` events).
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from psycopg2.extras import execute_values

from accounts.models import Team, User
from notifications.services import NotificationSpec, notify_many
from tickets import wiring
from tickets.choices import EventKind, PendingReason, Priority, Status
from tickets.events import event_record, event_record_many, event_row
from tickets.models import Ticket, TicketEvent
from tickets.services import EscalationMove, EscalationOutcome, ticket_escalate_many

from .business_time import BusinessCalendar, add_business_time, business_time_between
from .choices import ACTIVE_TIMER_STATES, ESCALATING_METRICS, Level, Metric, TimerState
from .models import (
    BusinessCalendarConfig,
    EscalationPolicy,
    EscalationStep,
    SlaPolicy,
    SlaTimer,
    TierSpan,
)

logger = logging.getLogger(__name__)

# Progress updates of routine tickets are reminders sent by their own job (`sla.progress_
# reminders`), not by the minute sweep.
ROUTINE_PRIORITIES = (Priority.P3, Priority.P4)
_ADVISORY_NAMESPACE = 7_001


def _sla_settings() -> dict:
    return getattr(settings, "SLA", {})


def sweep_batch_size() -> int:
    return int(_sla_settings().get("SWEEP_BATCH", 10_000))


def sweep_chunk_size() -> int:
    return int(_sla_settings().get("SWEEP_CHUNK", 200))


# --- calendars and policies -------------------------------------------------------------------


def calendars_by_id(ids: Iterable[int] | None = None) -> dict[int, BusinessCalendar]:
    """The built calendars (cached per process until their row changes), in one query."""
    configs = BusinessCalendarConfig.objects.all()
    if ids is not None:
        configs = configs.filter(pk__in=set(ids))
    return {config.pk: config.as_calendar() for config in configs}


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The most specific active policy for the ticket's priority: request type + unit >
    request type > unit (the deepest unit above the requester's) > the priority's default."""
    candidates = wiring.memo(
        ("sla.policies", ticket.priority, ticket.request_type_id),
        lambda: list(
            SlaPolicy.objects.filter(is_active=True, priority=ticket.priority)
            .filter(Q(request_type__isnull=True) | Q(request_type_id=ticket.request_type_id))
            .select_related("unit", "calendar")
        ),
    )
    best, best_score = None, None
    for policy in candidates:
        if policy.unit_id is not None and not (
            ticket.unit_path and ticket.unit_path.startswith(policy.unit.path)
        ):
            continue
        score = (
            policy.request_type_id is not None,
            policy.unit_id is not None,
            len(policy.unit.path) if policy.unit_id else 0,
        )
        if best_score is None or score > best_score:
            best, best_score = policy, score
    return best


class _EscalationPolicies:
    """Every active escalation policy with its steps, loaded once (two queries) and matched
    in memory: a chunk of the sweep asks for many (team, priority) pairs."""

    def __init__(self) -> None:
        self._policies: list[EscalationPolicy] | None = None

    def steps_for(self, team_id: int | None, priority: str) -> list[EscalationStep]:
        if self._policies is None:
            self._policies = list(
                EscalationPolicy.objects.filter(is_active=True).prefetch_related("steps")
            )
        candidates = [
            policy
            for policy in self._policies
            if policy.team_id in (None, team_id) and policy.priority in ("", priority)
        ]
        if not candidates:
            return []
        best = max(candidates, key=lambda p: (p.team_id is not None, p.priority != ""))
        return sorted(best.steps.all(), key=lambda step: step.level)


# --- timer arithmetic (no queries) -------------------------------------------------------------


def _schedule(timer: SlaTimer, calendar: BusinessCalendar) -> None:
    """due_at / warn_at of a running timer from its segment start and the time used."""
    start = timer.segment_started_at
    left = max(timer.target - timer.used, timedelta(0))
    timer.due_at = add_business_time(calendar, start, left)
    warn_total = timer.target * timer.warn_at_percent / 100
    timer.warn_at = add_business_time(calendar, start, max(warn_total - timer.used, timedelta(0)))


def _fold(timer: SlaTimer, calendar: BusinessCalendar, until: datetime) -> None:
    """Add the running segment's business time (up to `until`) to `used`."""
    if timer.state == TimerState.RUNNING and timer.segment_started_at is not None:
        if until > timer.segment_started_at:
            timer.used += business_time_between(calendar, timer.segment_started_at, until)
        timer.segment_started_at = until


TIMER_FIELDS = [
    "state",
    "used",
    "segment_started_at",
    "due_at",
    "warn_at",
    "paused_at",
    "met_at",
    "stopped_at",
    "next_escalation_at",
    "policy",
    "calendar",
    "priority",
    "target",
    "warn_at_percent",
    "updated_at",
]


def _save(timer: SlaTimer) -> None:
    timer.save(update_fields=TIMER_FIELDS)


def _lock_ticket_sla(ticket_id: int) -> None:
    """Serialise SLA reactions for one ticket until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [_ADVISORY_NAMESPACE, ticket_id % 2**31]
        )


def _active_timers(ticket_id: int) -> list[SlaTimer]:
    return list(
        SlaTimer.objects.select_for_update()
        .filter(ticket_id=ticket_id, state__in=ACTIVE_TIMER_STATES)
        .select_related("calendar")
        .order_by("id")
    )


def _log(ticket: Ticket, kind: str, message: str, data: dict) -> None:
    event_record(ticket=ticket, kind=kind, actor=None, message=message, is_public=False, data=data)


def _new_timer(ticket: Ticket, policy: SlaPolicy, metric: str, start: datetime) -> SlaTimer | None:
    target = policy.target_for(metric)
    if target is None:
        return None
    timer = SlaTimer(
        ticket=ticket,
        metric=metric,
        policy=policy,
        calendar=policy.calendar,
        priority=ticket.priority,
        target=target,
        warn_at_percent=policy.warn_at_percent,
        started_at=start,
        segment_started_at=start,
    )
    _schedule(timer, policy.calendar.as_calendar())
    timer.save(force_insert=True)
    return timer


def _is_waiting_on_requester(ticket: Ticket) -> bool:
    return ticket.status == Status.PENDING and ticket.pending_reason == PendingReason.REQUESTER


# --- timers follow the ticket ------------------------------------------------------------------


@transaction.atomic
def sla_timers_start(*, ticket_id: int) -> list[SlaTimer]:
    """Start the ticket's clocks (first response and resolution count from creation).

    Idempotent: a metric that already has a timer is left alone. Without a matching policy
    nothing starts (logged). A ticket already responded to gets its first response met and its
    progress clock started; one already waiting on the requester starts paused.
    """
    _lock_ticket_sla(ticket_id)
    ticket = Ticket.objects.get(pk=ticket_id)
    if ticket.status in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
        return []
    existing = set(SlaTimer.objects.filter(ticket_id=ticket_id).values_list("metric", flat=True))
    policy = policy_for(ticket)
    if policy is None:
        logger.warning("no SLA policy for ticket %s (%s)", ticket.number, ticket.priority)
        return []
    now = timezone.now()
    started = []
    for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
        if metric not in existing:
            timer = _new_timer(ticket, policy, metric, ticket.created_at)
            if timer is not None:
                started.append(timer)
    if started:
        _log(
            ticket,
            EventKind.SLA_STARTED,
            _("SLA clocks started (%(policy)s).") % {"policy": policy.name},
            {
                "policy": policy.pk,
                "timers": {t.metric: t.due_at.isoformat() for t in started},
            },
        )
    _sync_first_response(ticket, policy)
    if _is_waiting_on_requester(ticket):
        _pause_all(ticket, now)
    return started


def _sync_first_response(ticket: Ticket, policy: SlaPolicy | None = None) -> None:
    """Meet the first-response clock once the ticket has a first response, and start the
    progress-update clock from it."""
    if ticket.first_response_at is None:
        return
    timers = [t for t in _active_timers(ticket.pk) if t.metric == Metric.FIRST_RESPONSE]
    for timer in timers:
        _meet(timer, timer.calendar.as_calendar(), ticket.first_response_at)
    if timers and ticket.status not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
        policy = policy or policy_for(ticket)
        if (
            policy is not None
            and not SlaTimer.objects.filter(
                ticket_id=ticket.pk, metric=Metric.PROGRESS_UPDATE, state__in=ACTIVE_TIMER_STATES
            ).exists()
        ):
            timer = _new_timer(ticket, policy, Metric.PROGRESS_UPDATE, ticket.first_response_at)
            if timer is not None and _is_waiting_on_requester(ticket):
                _pause(timer, timer.calendar.as_calendar(), timezone.now())


def _meet(timer: SlaTimer, calendar: BusinessCalendar, at: datetime) -> None:
    if timer.state == TimerState.RUNNING:
        _fold(timer, calendar, max(at, timer.segment_started_at))
    timer.state = TimerState.MET
    timer.met_at = at
    timer.segment_started_at = None
    timer.next_escalation_at = None
    _save(timer)


def _stop(timer: SlaTimer, calendar: BusinessCalendar, at: datetime) -> None:
    _fold(timer, calendar, at)
    timer.state = TimerState.STOPPED
    timer.stopped_at = at
    timer.segment_started_at = None
    timer.next_escalation_at = None
    _save(timer)


def _pause(timer: SlaTimer, calendar: BusinessCalendar, at: datetime) -> None:
    _fold(timer, calendar, at)
    timer.state = TimerState.PAUSED
    timer.paused_at = at
    timer.segment_started_at = None
    _save(timer)


def _resume(timer: SlaTimer, calendar: BusinessCalendar, at: datetime) -> None:
    if timer.next_escalation_at is not None and timer.paused_at is not None:
        # Escalation steps wait while the clock is paused: push the next one back by the pause.
        timer.next_escalation_at += max(at - timer.paused_at, timedelta(0))
    timer.state = TimerState.RUNNING
    timer.paused_at = None
    timer.segment_started_at = at
    _schedule(timer, calendar)
    _save(timer)


def _pause_all(ticket: Ticket, at: datetime) -> list[SlaTimer]:
    paused = []
    for timer in _active_timers(ticket.pk):
        if timer.state == TimerState.RUNNING:
            _pause(timer, timer.calendar.as_calendar(), at)
            paused.append(timer)
    if paused:
        _log(
            ticket,
            EventKind.SLA_PAUSED,
            _("SLA clocks paused: waiting for the requester."),
            {"timers": [t.metric for t in paused]},
        )
    return paused


def _status_concerns_sla(ticket: Ticket, old: str, new: str) -> bool:
    """Whether a status change can change a clock (read-only, so the many changes that do not,
    e.g. an escalation moving the ticket to another queue, cost no write transaction)."""
    if new == Status.PENDING and ticket.pending_reason == PendingReason.REQUESTER:
        return True
    if old in (Status.PENDING, Status.RESOLVED, Status.CLOSED):
        return True
    if new in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
        return True
    return (
        ticket.first_response_at is not None
        and SlaTimer.objects.filter(
            ticket_id=ticket.pk, metric=Metric.FIRST_RESPONSE, state__in=ACTIVE_TIMER_STATES
        ).exists()
    )


def sla_timers_on_status(*, ticket_id: int, old: str, new: str) -> None:
    """Follow a status change: pause while pending on the requester and resume after (the
    remaining time is kept); meet resolution when the requester is told (resolved); stop every
    clock when closed or cancelled; on a reopen resume resolution with the time already used."""
    if new == Status.QUEUED and old in (Status.NEW, Status.QUEUED, Status.IN_PROGRESS):
        return  # routed, dispatched or escalated: no clock changes (and no first response)
    ticket = Ticket.objects.get(pk=ticket_id)
    if not _status_concerns_sla(ticket, old, new):
        return
    with transaction.atomic():
        _lock_ticket_sla(ticket_id)
        _follow_status(Ticket.objects.get(pk=ticket_id), old, new)


def _follow_status(ticket: Ticket, old: str, new: str) -> None:
    ticket_id = ticket.pk
    now = timezone.now()
    _sync_first_response(ticket)
    if new == Status.PENDING and ticket.pending_reason == PendingReason.REQUESTER:
        _pause_all(ticket, now)
    elif old == Status.PENDING and new != Status.PENDING:
        resumed = []
        for timer in _active_timers(ticket_id):
            if timer.state == TimerState.PAUSED:
                _resume(timer, timer.calendar.as_calendar(), now)
                resumed.append(timer)
        if resumed:
            _log(
                ticket,
                EventKind.SLA_RESUMED,
                _("SLA clocks resumed."),
                {"timers": {t.metric: t.due_at.isoformat() for t in resumed}},
            )
    if new == Status.RESOLVED:
        at = ticket.resolved_at or now
        for timer in _active_timers(ticket_id):
            calendar = timer.calendar.as_calendar()
            if timer.metric == Metric.PROGRESS_UPDATE:
                _stop(timer, calendar, at)
            else:
                _meet(timer, calendar, at)
    elif new in (Status.CLOSED, Status.CANCELLED):
        for timer in _active_timers(ticket_id):
            _stop(timer, timer.calendar.as_calendar(), now)
    elif old in (Status.RESOLVED, Status.CLOSED) and new in (Status.IN_PROGRESS, Status.QUEUED):
        _reopen(ticket, now)


def _reopen(ticket: Ticket, now: datetime) -> None:
    """The fix was rejected or the ticket reopened: the resolution clock goes on from the
    business time it had used; a new progress-update clock starts."""
    last = (
        SlaTimer.objects.select_for_update()
        .filter(ticket_id=ticket.pk, metric=Metric.RESOLUTION)
        .select_related("calendar")
        .order_by("-id")
        .first()
    )
    if last is None or last.is_active:
        return
    last.state = TimerState.RUNNING
    last.met_at = last.stopped_at = None
    last.segment_started_at = now
    _schedule(last, last.calendar.as_calendar())
    _save(last)
    policy = last.policy or policy_for(ticket)
    if policy is not None:
        _new_timer(ticket, policy, Metric.PROGRESS_UPDATE, now)
    _log(
        ticket,
        EventKind.SLA_RESUMED,
        _("Reopened: the resolution clock goes on."),
        {"timers": {Metric.RESOLUTION: last.due_at.isoformat()}, "used": str(last.used)},
    )


@transaction.atomic
def sla_timers_on_public_reply(*, ticket_id: int, by_requester: bool) -> None:
    """An agent's public reply is a first response and a progress update: the progress clock
    is met and a new one starts from now."""
    if by_requester:
        return
    _lock_ticket_sla(ticket_id)
    ticket = Ticket.objects.get(pk=ticket_id)
    had_progress = SlaTimer.objects.filter(
        ticket_id=ticket_id, metric=Metric.PROGRESS_UPDATE, state__in=ACTIVE_TIMER_STATES
    ).exists()
    _sync_first_response(ticket)
    if not had_progress:
        return  # the progress clock was just started by the first response
    now = timezone.now()
    policy = None
    for timer in _active_timers(ticket_id):
        if timer.metric == Metric.PROGRESS_UPDATE:
            policy = timer.policy
            _meet(timer, timer.calendar.as_calendar(), now)
    policy = policy or policy_for(ticket)
    if policy is not None and ticket.status not in (
        Status.RESOLVED,
        Status.CLOSED,
        Status.CANCELLED,
    ):
        timer = _new_timer(ticket, policy, Metric.PROGRESS_UPDATE, now)
        if timer is not None and _is_waiting_on_requester(ticket):
            _pause(timer, timer.calendar.as_calendar(), now)


@transaction.atomic
def sla_timers_recalculate(*, ticket_id: int, reason: str = "") -> list[SlaTimer]:
    """The priority (or the policy that applies) changed: apply the new policy's targets and
    calendar to every active clock, keeping the business time already spent. A ticket whose
    clocks have not started yet is left alone: they start in one place, the intake chain's
    `sla_timers_start`, which runs after routing (tickets/wiring.py) with the final priority."""
    _lock_ticket_sla(ticket_id)
    ticket = Ticket.objects.get(pk=ticket_id)
    timers = _active_timers(ticket_id)
    if not timers:
        return []
    policy = policy_for(ticket)
    if policy is None:
        return []
    now = timezone.now()
    new_calendar = policy.calendar.as_calendar()
    changes = {}
    for timer in timers:
        old_due = timer.due_at
        if (timer.policy_id, timer.priority, timer.target) == (
            policy.pk,
            ticket.priority,
            policy.target_for(timer.metric),
        ):
            continue  # nothing that matters changed (e.g. a reaction arriving twice)
        _fold(timer, timer.calendar.as_calendar(), now)
        target = policy.target_for(timer.metric)
        if target is None:
            _stop(timer, new_calendar, now)
            continue
        timer.policy, timer.calendar, timer.priority = policy, policy.calendar, ticket.priority
        timer.target, timer.warn_at_percent = target, policy.warn_at_percent
        if timer.state == TimerState.RUNNING:
            _schedule(timer, new_calendar)
        _save(timer)
        changes[timer.metric] = {
            "old_due": old_due.isoformat() if old_due else None,
            "new_due": timer.due_at.isoformat() if timer.state == TimerState.RUNNING else None,
            "used": str(timer.used),
        }
    if changes:
        _log(
            ticket,
            EventKind.SLA_RECALCULATED,
            reason or _("SLA recalculated for priority %(p)s.") % {"p": ticket.priority},
            {"policy": policy.pk, "priority": ticket.priority, "timers": changes},
        )
    return timers


def tier_span_on_assignment(*, ticket_id: int, new_tier: str, new_team_id: int | None) -> None:
    """The ASSIGNMENT_CHANGED reaction: move the ticket's tier stint when the tier or team
    changed. Read-only when the stint is already right (the sweep records the stints of its
    own escalations in bulk, from the moves `ticket_escalate_many` returns)."""
    current = (
        TierSpan.objects.filter(ticket_id=ticket_id, ended_at=None)
        .values_list("tier", "team_id")
        .first()
    )
    if current == (new_tier, new_team_id) or (current is None and not new_tier):
        return
    with transaction.atomic():
        _lock_ticket_sla(ticket_id)
        tier_spans_move(moves=[(ticket_id, new_tier, new_team_id)], now=timezone.now())


def tier_spans_move(*, moves: list[tuple[int, str, int | None]], now: datetime) -> None:
    """The one place tier stints (OLA per tier) are written: for each (ticket, new tier, new
    team), close the open stint, measuring its business time on the ticket's resolution
    calendar, and open the next one unless the ticket is finished. Idempotent: a ticket whose
    open stint is already the new one is left alone. Caller holds the tickets' SLA locks or
    row locks. A stint is never measured backwards (a clock step back gives zero, not an
    error)."""
    target = {ticket_id: (tier, team_id) for ticket_id, tier, team_id in moves}
    if not target:
        return
    open_spans = {
        span.ticket_id: span
        for span in TierSpan.objects.select_for_update().filter(
            ticket_id__in=list(target), ended_at=None
        )
    }
    to_move = [
        ticket_id
        for ticket_id, new in target.items()
        if ticket_id not in open_spans
        or (open_spans[ticket_id].tier, open_spans[ticket_id].team_id) != new
    ]
    if not to_move:
        return
    tickets = {
        row["pk"]: row
        for row in Ticket.objects.filter(pk__in=to_move).values("pk", "status", "priority")
    }
    calendars = _resolution_calendars([t for t in to_move if t in open_spans])
    closing = []
    for ticket_id in to_move:
        span = open_spans.get(ticket_id)
        if span is None:
            continue
        calendar = calendars.get(ticket_id) or BusinessCalendar.twenty_four_seven()
        started = min(span.started_at, now)
        closing.append((span.pk, business_time_between(calendar, started, now)))
    if closing:
        # One UPDATE … FROM (VALUES …): a per-row CASE (bulk_update) costs more in Python
        # than the whole escalation of a sweep chunk.
        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                "UPDATE sla_tierspan AS s SET ended_at = v.ended_at, "
                "business_time = v.business_time FROM (VALUES %s) "
                "AS v(id, business_time, ended_at) WHERE s.id = v.id",
                [(span_id, used, now) for span_id, used in closing],
                template="(%s, %s::interval, %s::timestamptz)",
            )
    TierSpan.objects.bulk_create(
        TierSpan(
            ticket_id=ticket_id,
            tier=target[ticket_id][0],
            team_id=target[ticket_id][1],
            priority=tickets[ticket_id]["priority"],
            started_at=now,
        )
        for ticket_id in sorted(to_move)
        if target[ticket_id][0]
        and ticket_id in tickets
        and tickets[ticket_id]["status"] not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
    )


def _resolution_calendars(ticket_ids: list[int]) -> dict[int, BusinessCalendar]:
    """Each ticket's calendar: that of its latest resolution timer (one query)."""
    if not ticket_ids:
        return {}
    latest = (
        SlaTimer.objects.filter(ticket_id__in=ticket_ids, metric=Metric.RESOLUTION)
        .order_by("ticket_id", "-id")
        .distinct("ticket_id")
        .values_list("ticket_id", "calendar_id")
    )
    by_ticket = dict(latest)
    configs = calendars_by_id(set(by_ticket.values()))
    return {ticket_id: configs[calendar_id] for ticket_id, calendar_id in by_ticket.items()}


# --- the sweep ----------------------------------------------------------------------------------


def _due(level: str, now: datetime, *, routine_progress: bool):
    """Due timer ids of a level, through that level's partial index, oldest first."""
    if level == Level.WARNING:
        timers = SlaTimer.objects.filter(
            state=TimerState.RUNNING, warned_at__isnull=True, warn_at__lte=now
        ).order_by("warn_at")
    elif level == Level.BREACH:
        timers = SlaTimer.objects.filter(
            state=TimerState.RUNNING, breached_at__isnull=True, due_at__lte=now
        ).order_by("due_at")
    else:
        timers = SlaTimer.objects.filter(
            state=TimerState.RUNNING, next_escalation_at__isnull=False, next_escalation_at__lte=now
        ).order_by("next_escalation_at")
    routine = Q(metric=Metric.PROGRESS_UPDATE, priority__in=ROUTINE_PRIORITIES)
    timers = timers.filter(routine) if routine_progress else timers.exclude(routine)
    return timers


def sla_due_timer_ids(*, routine_progress: bool = False, now: datetime | None = None) -> dict:
    """{level: [timer ids]} due now, at most the batch size per level."""
    now = now or timezone.now()
    levels = (Level.WARNING, Level.BREACH) if routine_progress else tuple(Level)
    batch = sweep_batch_size()
    # One round trip: each level's indexed range scan, concatenated (UNION ALL).
    parts = [
        _due(level, now, routine_progress=routine_progress)
        .annotate(level=Value(str(level)))
        .values_list("level", "id")[:batch]
        for level in levels
    ]
    result: dict = {level: [] for level in levels}
    for level, timer_id in parts[0].union(*parts[1:], all=True):
        result[Level(level)].append(timer_id)
    return result


@dataclass
class _Outcome:
    """What one chunk did, for the task's return value and the tests."""

    handled: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


def _recheck(level: str, now: datetime) -> Q:
    if level == Level.WARNING:
        return Q(state=TimerState.RUNNING, warned_at__isnull=True, warn_at__lte=now)
    if level == Level.BREACH:
        return Q(state=TimerState.RUNNING, breached_at__isnull=True, due_at__lte=now)
    return Q(
        state=TimerState.RUNNING, next_escalation_at__isnull=False, next_escalation_at__lte=now
    )


class _Managers:
    """The managers of a unit path (a manager sees their units and those below), loaded once
    per chunk."""

    def __init__(self) -> None:
        self._by_path: list[tuple[str, User]] | None = None

    def of(self, unit_path: str) -> list[User]:
        if self._by_path is None:
            self._by_path = [
                (path, user)
                for user in User.objects.filter(
                    managed_units__isnull=False, is_active=True
                ).prefetch_related("managed_units")
                for path in {u.path for u in user.managed_units.all()}
            ]
        seen, result = set(), []
        for path, user in self._by_path:
            if unit_path and unit_path.startswith(path) and user.pk not in seen:
                seen.add(user.pk)
                result.append(user)
        return result


def _ticket_url(ticket: Ticket) -> str:
    base = settings.SERVICEDESK.get("PUBLIC_BASE_URL", "").rstrip("/")
    return base + reverse("workspace:ticket", kwargs={"number": ticket.number})


def sla_timers_process(*, timer_ids: list[int], level: str) -> _Outcome:
    """Handle one chunk of due timers at one level, each exactly once.

    Locks the rows still due (skipping rows another worker holds), sets the level's marker,
    then acts: a warning tells the assignee (or the team lead); a breach is logged and runs the
    escalation policy's immediate steps (progress updates: the owner and lead are reminded);
    an escalation step runs the next level. Notifications are stored in bulk and delivered
    after commit. Idempotent: a second run finds no row still due.
    """
    with transaction.atomic():
        return _process_chunk(timer_ids, level)


def _process_chunk(timer_ids: list[int], level: str) -> _Outcome:
    now = timezone.now()
    outcome = _Outcome()
    timers = list(
        SlaTimer.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(_recheck(level, now), pk__in=timer_ids)
        .select_related(
            "ticket",
            "ticket__team",
            "ticket__team__lead",
            "ticket__team__escalates_to",
            "ticket__assignee",
        )
        .order_by("id")
    )
    if not timers:
        return outcome
    events: list[TicketEvent] = []
    specs: list[NotificationSpec] = []
    managers = _Managers()
    policies = _EscalationPolicies()
    steps_cache: dict[tuple[int | None, str], list[EscalationStep]] = {}
    escalations: list[tuple[SlaTimer, list[EscalationStep]]] = []

    def steps(timer: SlaTimer) -> list[EscalationStep]:
        key = (timer.ticket.team_id, timer.priority)
        if key not in steps_cache:
            steps_cache[key] = policies.steps_for(*key)
        return steps_cache[key]

    warned, breached = [], []
    for timer in timers:
        ticket = timer.ticket
        outcome.handled.append(timer.pk)
        if level == Level.WARNING:
            timer.warned_at = now
            warned.append(timer)
            if timer.due_at is not None and timer.due_at <= now:
                continue  # the breach supersedes the warning; the breach level tells people
            events.append(_event(ticket, EventKind.SLA_WARNED, _warning_text(timer), timer, now))
            owner = ticket.assignee or (ticket.team.lead if ticket.team else None)
            specs += _specs(
                timer, level, [owner], _warning_subject(timer), _warning_text(timer), ticket
            )
        elif level == Level.BREACH:
            timer.breached_at = now
            timer.warned_at = timer.warned_at or now
            breached.append(timer)
            events.append(_event(ticket, EventKind.SLA_BREACHED, _breach_text(timer), timer, now))
            if timer.metric in ESCALATING_METRICS:
                due_steps = [s for s in steps(timer) if s.delay <= timedelta(0)]
                later = [s for s in steps(timer) if s.delay > timedelta(0)]
                timer.escalation_level = due_steps[-1].level if due_steps else 0
                timer.next_escalation_at = now + later[0].delay if later else None
                if due_steps:
                    escalations.append((timer, due_steps))
            else:
                lead = ticket.team.lead if ticket.team else None
                specs += _specs(
                    timer,
                    level,
                    [ticket.assignee, lead],
                    _breach_subject(timer),
                    _breach_text(timer),
                    ticket,
                )
        else:
            remaining = [s for s in steps(timer) if s.level > timer.escalation_level]
            if not remaining:
                timer.next_escalation_at = None
                breached.append(timer)
                continue
            step, later = remaining[0], remaining[1:]
            timer.escalation_level = step.level
            base = timer.breached_at or now
            timer.next_escalation_at = max(base + later[0].delay, now) if later else None
            breached.append(timer)
            escalations.append((timer, [step]))

    _save_markers(warned, ["warned_at"])
    _save_markers(breached, ["breached_at", "warned_at", "escalation_level", "next_escalation_at"])
    event_record_many(events)
    # Tickets are locked (by ticket_escalate_many) in ticket order, so two chunks escalating timers
    # of the same tickets cannot deadlock on each other.
    escalations.sort(key=lambda item: (item[0].ticket_id, item[0].pk))
    chunk = _EscalationChunk(managers=managers, now=now)
    for timer, due_steps in escalations:
        for step in due_steps:
            specs += chunk.run(timer, step)
        outcome.escalated.append(timer.pk)
    chunk.finish()
    notify_many(specs)
    return outcome


def _save_markers(timers: list[SlaTimer], fields: list[str]) -> None:
    """One UPDATE per distinct combination of marker values (a chunk has a handful), cheaper
    than a per-row CASE over the whole chunk."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for timer in timers:
        groups[tuple(getattr(timer, name) for name in fields)].append(timer.pk)
    now = timezone.now()
    for values, ids in groups.items():
        changes = dict(zip(fields, values, strict=True))
        SlaTimer.objects.filter(pk__in=ids).update(**changes, updated_at=now)


def _event(ticket: Ticket, kind: str, message: str, timer: SlaTimer, now: datetime, **data):
    return event_row(
        ticket=ticket,
        kind=kind,
        actor=None,
        message=message,
        is_public=False,
        created_at=now,
        data={
            "timer": timer.pk,
            "metric": timer.metric,
            "due_at": timer.due_at.isoformat() if timer.due_at else None,
            **data,
        },
    )


def _specs(timer, level, users, subject, body, ticket, *, step: int = 0) -> list:
    """Inbox + e-mail to each distinct user, and the team's chat webhooks, deduplicated per
    timer, level, step and deadline: a re-run of the same breach sends nothing, while a new
    deadline (after a recalculation or a reopen) that is missed again is news."""
    deadline = int(timer.due_at.timestamp()) if timer.due_at else 0
    key = f"sla:{timer.pk}:{level}:{step}:{deadline}"
    recipients = []
    for user in users:
        if user is not None and user.pk not in {u.pk for u in recipients}:
            recipients.append(user)
    return [
        NotificationSpec(
            dedupe_key=key,
            recipients=recipients,
            subject=subject,
            body=body,
            url=_ticket_url(ticket),
            team_id=ticket.team_id,
        )
    ]


def _metric_label(timer: SlaTimer) -> str:
    return _label(timer.metric, get_language())


@functools.lru_cache(maxsize=64)
def _label(metric: str, language: str | None) -> str:
    # The sweep formats thousands of messages: translate each label once per language.
    return str(Metric(metric).label)


def _warning_subject(timer: SlaTimer) -> str:
    return _("[%(number)s] %(metric)s due soon") % {
        "number": timer.ticket.number,
        "metric": _metric_label(timer),
    }


def _warning_text(timer: SlaTimer) -> str:
    due = timezone.localtime(timer.due_at).strftime("%Y-%m-%d %H:%M") if timer.due_at else ""
    return _("%(metric)s of %(number)s (%(priority)s) is due at %(due)s: %(title)s") % {
        "metric": _metric_label(timer),
        "number": timer.ticket.number,
        "priority": timer.priority,
        "due": due,
        "title": timer.ticket.title,
    }


def _breach_subject(timer: SlaTimer) -> str:
    if timer.metric == Metric.PROGRESS_UPDATE:
        return _("[%(number)s] progress update overdue") % {"number": timer.ticket.number}
    return _("[%(number)s] %(metric)s SLA breached") % {
        "number": timer.ticket.number,
        "metric": _metric_label(timer),
    }


def _breach_text(timer: SlaTimer) -> str:
    due = timezone.localtime(timer.due_at).strftime("%Y-%m-%d %H:%M") if timer.due_at else ""
    return _("%(metric)s of %(number)s (%(priority)s) was due at %(due)s: %(title)s") % {
        "metric": _metric_label(timer),
        "number": timer.ticket.number,
        "priority": timer.priority,
        "due": due,
        "title": timer.ticket.title,
    }


class _EscalationChunk:
    """Runs the escalation steps of one chunk: notifications, the functional moves (in bulk
    through `ticket_escalate_many`), the log entries and the new tier stints in bulk."""

    def __init__(self, *, managers: _Managers, now: datetime) -> None:
        self.managers, self.now = managers, now
        self.events: list[TicketEvent] = []
        self.team_now: dict[int, Team | None] = {}
        self.moves: list[EscalationMove] = []
        self.move_data: list[dict] = []

    def run(self, timer: SlaTimer, step: EscalationStep) -> list:
        """Run one step: notify (assignee, lead, managers as they were at the breach),
        reassign to the next team of the chain, log it. A failed reassignment is logged and
        the notifications still go."""
        ticket = timer.ticket
        team = self.team_now.get(ticket.pk, ticket.team)
        users = []
        if step.notify_assignee:
            users.append(ticket.assignee)
        if step.notify_team_lead and team is not None:
            users.append(team.lead)
        if step.notify_managers:
            users.extend(self.managers.of(ticket.unit_path))
        data: dict = {"level": step.level, "metric": timer.metric, "timer": timer.pk}
        if step.reassign:
            target = team.escalates_to if team is not None else None
            if target is None:
                data["reassign"] = "end_of_chain"
            else:
                # Moved in bulk in finish(); a refused move is noted in this entry there.
                self.moves.append(
                    EscalationMove(
                        ticket_id=ticket.pk,
                        team=target,
                        reason=_("SLA breached (%(metric)s): escalated to %(team)s.")
                        % {"metric": _metric_label(timer), "team": target.label},
                        data={"sla_timer": timer.pk, "level": step.level},
                    )
                )
                self.move_data.append(data)
                data["reassigned_to"] = target.pk
                self.team_now[ticket.pk] = target
        data["notified"] = sorted({u.pk for u in users if u is not None})
        self.events.append(
            event_row(
                ticket=ticket,
                kind=EventKind.ESCALATED,
                actor=None,
                message=_("Escalation level %(level)d (%(metric)s).")
                % {"level": step.level, "metric": _metric_label(timer)},
                is_public=False,
                created_at=self.now,
                data=data,
            )
        )
        subject = _("[%(number)s] escalated (level %(level)d): %(metric)s SLA breached") % {
            "number": ticket.number,
            "level": step.level,
            "metric": _metric_label(timer),
        }
        return _specs(
            timer, Level.ESCALATION, users, subject, _breach_text(timer), ticket, step=step.level
        )

    def finish(self) -> None:
        """Move the tickets (in bulk through `ticket_escalate_many`), write the log entries,
        and record the moved tickets' tier stints from the moves it made (the
        ASSIGNMENT_CHANGED reaction then finds them right and writes nothing)."""
        outcome = ticket_escalate_many(moves=self.moves) if self.moves else EscalationOutcome()
        for move, data in zip(self.moves, self.move_data, strict=True):
            if move.ticket_id in outcome.refused:
                data.pop("reassigned_to", None)
                data["reassign"] = f"skipped: {outcome.refused[move.ticket_id]}"
        event_record_many(self.events)
        tier_spans_move(
            moves=[(m.ticket_id, m.new_tier, m.new_team_id) for m in outcome.moved], now=self.now
        )
