"""What the SLA services share: policies and calendars (read once per intake batch), timer
arithmetic, the per-ticket advisory lock and the log entry."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q

from servicedesk import clock
from tickets import wiring
from tickets.choices import PendingReason, Priority, Status
from tickets.events import event_record
from tickets.models import Ticket

from ..business_time import BusinessCalendar, add_business_time, business_time_between
from ..choices import ACTIVE_TIMER_STATES, TimerState
from ..models import (
    BusinessCalendarConfig,
    EscalationPolicy,
    EscalationStep,
    SlaPolicy,
    SlaTimer,
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
    return int(_sla_settings().get("SWEEP_CHUNK", 500))


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


def _schedule(timer: SlaTimer, calendar: BusinessCalendar) -> None:
    """due_at / warn_at of a running timer from its segment start and the time used."""
    start = timer.segment_started_at
    left = max(timer.target - timer.used, timedelta(0))
    timer.due_at = add_business_time(calendar, start, left)
    warn_total = timer.target * timer.warn_at_percent / 100
    timer.warn_at = add_business_time(calendar, start, max(warn_total - timer.used, timedelta(0)))


def _fold(timer: SlaTimer, calendar: BusinessCalendar, until: datetime) -> None:
    """Add the running segment's business time (up to `until`) to `used`; an `until` before
    the segment's start (a clock stepped back) adds nothing and keeps the start."""
    start = timer.segment_started_at
    if timer.state == TimerState.RUNNING and start is not None and until > start:
        timer.used += business_time_between(calendar, start, until)
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


def _lock_ticket_sla(ticket_id: int) -> datetime:
    """Serialise SLA reactions for one ticket until the transaction ends; return "now" by the
    desk's clock (servicedesk.clock), read by the same query once the lock is held."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT clock_timestamp() FROM (SELECT pg_advisory_xact_lock(%s, %s)) AS locked",
            [_ADVISORY_NAMESPACE, ticket_id % 2**31],
        )
        return clock.chosen(cursor.fetchone()[0])


def not_before(timer: SlaTimer, at: datetime) -> datetime:
    """`at`, or the latest instant the timer already recorded if `at` is earlier: a timestamp
    taken from another clock (a process's, stepped back) never moves a timer backwards."""
    floor = max(
        (t for t in (timer.started_at, timer.segment_started_at, timer.paused_at) if t),
        default=at,
    )
    return max(at, floor)


def _active_timers(ticket_id: int) -> list[SlaTimer]:
    return list(
        SlaTimer.objects.select_for_update()
        .filter(ticket_id=ticket_id, state__in=ACTIVE_TIMER_STATES)
        .select_related("calendar")
        .order_by("id")
    )


def _log(ticket: Ticket, kind: str, message: str, data: dict) -> None:
    event_record(ticket=ticket, kind=kind, actor=None, message=message, is_public=False, data=data)


def _lock_tickets_sla(ticket_ids: list[int]) -> datetime:
    """`_lock_ticket_sla` for many tickets in one query, in id order (no deadlock between two
    batches); returns "now" by the desk's clock, read once the locks are held."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT clock_timestamp() FROM (SELECT count(pg_advisory_xact_lock(%s, key)) FROM "
            "(SELECT DISTINCT (id %% 2147483648)::int AS key FROM unnest(%s::bigint[]) AS t(id) "
            "ORDER BY key) AS keys) AS locked",
            [_ADVISORY_NAMESPACE, sorted(set(ticket_ids))],
        )
        return clock.chosen(cursor.fetchone()[0])


def _new_timer(ticket: Ticket, policy: SlaPolicy, metric: str, start: datetime) -> SlaTimer | None:
    timer = _build_timer(ticket, policy, metric, start)
    if timer is not None:
        timer.save(force_insert=True)
    return timer


def _build_timer(
    ticket: Ticket, policy: SlaPolicy, metric: str, start: datetime
) -> SlaTimer | None:
    """An unsaved running timer of `metric` from `start` (None: the policy has no target)."""
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
    return timer


def _is_waiting_on_requester(ticket: Ticket) -> bool:
    return ticket.status == Status.PENDING and ticket.pending_reason == PendingReason.REQUESTER
