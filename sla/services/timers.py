"""Timers follow the ticket: start once after routing, pause while waiting on the requester,
resume, meet, stop, reopen, and recalculate on a new priority keeping the time already spent."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils.translation import gettext as _

from tickets.choices import EventKind, PendingReason, Status
from tickets.events import event_record_many, event_row
from tickets.models import Ticket

from ..business_time import BusinessCalendar
from ..choices import ACTIVE_TIMER_STATES, Metric, TimerState
from ..models import (
    SlaPolicy,
    SlaTimer,
)
from .common import (
    _active_timers,
    _build_timer,
    _fold,
    _is_waiting_on_requester,
    _lock_ticket_sla,
    _lock_tickets_sla,
    _log,
    _new_timer,
    _save,
    _schedule,
    not_before,
    policy_for,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def sla_timers_start(*, ticket_id: int) -> list[SlaTimer]:
    """Start the ticket's clocks (first response and resolution count from creation).

    Idempotent: a metric that already has a timer is left alone. Without a matching policy
    nothing starts (logged). A ticket already responded to gets its first response met and its
    progress clock started; one already waiting on the requester starts paused.
    """
    now = _lock_ticket_sla(ticket_id)
    ticket = Ticket.objects.get(pk=ticket_id)
    if ticket.status in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
        return []
    existing = set(SlaTimer.objects.filter(ticket_id=ticket_id).values_list("metric", flat=True))
    policy = policy_for(ticket)
    if policy is None:
        logger.warning("no SLA policy for ticket %s (%s)", ticket.number, ticket.priority)
        return []
    started = []
    # The clocks count from creation, as the creating process's clock stamped it, but never
    # from a future instant (that process's clock was ahead of the desk's).
    start = min(ticket.created_at, now)
    for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
        if metric not in existing:
            timer = _new_timer(ticket, policy, metric, start)
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
    _sync_first_response(ticket, now, policy)
    if _is_waiting_on_requester(ticket):
        _pause_all(ticket, now)
    return started


def sla_timers_start_many(*, ticket_ids: list[int]) -> list[int]:
    """`sla_timers_start` for a batch of new tickets (the intake drain) in a few statements:
    one lock query, one read of the tickets and one of their timers, one INSERT of timers and
    one of log entries. A ticket off the common path (already answered, waiting, closed, with
    timers) goes through `sla_timers_start` itself, in a savepoint. Returns those tickets:
    the others only got new clocks, which nothing flags yet (no summary to refresh)."""
    if not ticket_ids:
        return []
    now = _lock_tickets_sla(ticket_ids)
    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).order_by("pk"))
    with_timers = set(
        SlaTimer.objects.filter(ticket_id__in=ticket_ids).values_list("ticket_id", flat=True)
    )
    timers, entries, others = [], [], []
    for ticket in tickets:
        if (
            ticket.pk in with_timers
            or ticket.first_response_at is not None
            or ticket.status in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
            or _is_waiting_on_requester(ticket)
        ):
            others.append(ticket.pk)
            continue
        policy = policy_for(ticket)
        if policy is None:
            logger.warning("no SLA policy for ticket %s (%s)", ticket.number, ticket.priority)
            continue
        start = min(ticket.created_at, now)  # never from a future instant (as one ticket)
        started = [
            timer
            for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
            if (timer := _build_timer(ticket, policy, metric, start)) is not None
        ]
        if started:
            timers += started
            entries.append(
                event_row(
                    ticket=ticket,
                    kind=EventKind.SLA_STARTED,
                    message=_("SLA clocks started (%(policy)s).") % {"policy": policy.name},
                    is_public=False,
                    data={
                        "policy": policy.pk,
                        "timers": {t.metric: t.due_at.isoformat() for t in started},
                    },
                )
            )
    SlaTimer.objects.bulk_create(timers)
    event_record_many(entries)
    for ticket_id in others:
        with transaction.atomic():
            sla_timers_start(ticket_id=ticket_id)
    return others


def _sync_first_response(ticket: Ticket, now: datetime, policy: SlaPolicy | None = None) -> None:
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
                _pause(timer, timer.calendar.as_calendar(), now)


def _meet(timer: SlaTimer, calendar: BusinessCalendar, at: datetime, *, save=True) -> None:
    at = not_before(timer, at)  # never met before it started
    if timer.state == TimerState.RUNNING:
        _fold(timer, calendar, max(at, timer.segment_started_at))
    timer.state = TimerState.MET
    timer.met_at = at
    timer.segment_started_at = None
    timer.next_escalation_at = None
    if save:
        _save(timer)


def _stop(timer: SlaTimer, calendar: BusinessCalendar, at: datetime, *, save=True) -> None:
    at = not_before(timer, at)
    _fold(timer, calendar, at)
    timer.state = TimerState.STOPPED
    timer.stopped_at = at
    timer.segment_started_at = None
    timer.next_escalation_at = None
    if save:
        _save(timer)


def _pause(timer: SlaTimer, calendar: BusinessCalendar, at: datetime) -> None:
    at = not_before(timer, at)
    _fold(timer, calendar, at)
    timer.state = TimerState.PAUSED
    timer.paused_at = at
    timer.segment_started_at = None
    _save(timer)


def _resume(timer: SlaTimer, calendar: BusinessCalendar, at: datetime) -> None:
    at = not_before(timer, at)
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
        now = _lock_ticket_sla(ticket_id)
        _follow_status(Ticket.objects.get(pk=ticket_id), old, new, now)


FINISHED = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


@transaction.atomic
def sla_timers_on_status_many(*, changes: list[tuple[int, str, str]]) -> None:
    """The batch form of `sla_timers_on_status` for many tickets' changes (ticket id, old,
    new), e.g. the thousands of tickets a major incident's recovery resolves; the outcome is
    the same as calling it for each. Tickets that are now resolved, closed or cancelled (and
    were not waiting: resuming logs a step of its own) have their clocks met or stopped
    set-based: one statement takes the tickets' advisory locks (in id order, so it never
    deadlocks with a one-ticket reaction), one reads the tickets, one locks their active
    timers, and one UPDATE per 500 timers writes them. Any other change follows the
    one-ticket path, under the same locks."""
    # A ticket changed twice in the batch follows its changes one by one, in order.
    times = Counter(ticket_id for ticket_id, _old, _new in changes)
    batched = {
        c[0]: c for c in changes if times[c[0]] == 1 and c[2] in FINISHED and c[1] != Status.PENDING
    }
    if batched:
        ids = sorted(batched)
        now = _lock_tickets_sla(ids)  # the desk's one clock, read once the locks are held
        # What the clocks need, not model instances: thousands of tickets at a time.
        tickets = {
            row[0]: row[1:]
            for row in Ticket.objects.filter(pk__in=ids).values_list(
                "pk", "status", "first_response_at", "resolved_at"
            )
        }
        timers: dict[int, list[SlaTimer]] = {}
        for timer in (
            SlaTimer.objects.select_for_update()
            .filter(ticket_id__in=ids, state__in=ACTIVE_TIMER_STATES)
            .select_related("calendar")
            .order_by("id")
        ):
            timers.setdefault(timer.ticket_id, []).append(timer)
        changed = []
        for ticket_id, (_id, old, new) in batched.items():
            if ticket_id not in tickets:
                continue
            status, first_response_at, resolved_at = tickets[ticket_id]
            if status != new:
                # It moved again since: its own path decides (it may start a progress clock).
                _follow_status(Ticket.objects.get(pk=ticket_id), old, new, now)
                continue
            for timer in timers.get(ticket_id, []):
                calendar = timer.calendar.as_calendar()
                if timer.metric == Metric.FIRST_RESPONSE and first_response_at:
                    _meet(timer, calendar, first_response_at, save=False)
                elif new != Status.RESOLVED:
                    _stop(timer, calendar, now, save=False)
                elif timer.metric == Metric.PROGRESS_UPDATE:
                    _stop(timer, calendar, resolved_at or now, save=False)
                else:
                    _meet(timer, calendar, resolved_at or now, save=False)
                timer.updated_at = now  # bulk_update does not apply auto_now
                changed.append(timer)
        _write_finished(changed)
    for ticket_id, old, new in changes:
        if ticket_id not in batched:
            sla_timers_on_status(ticket_id=ticket_id, old=old, new=new)


# Meeting or stopping a clock changes only these columns (`_meet`, `_stop`, `_fold`); one
# UPDATE from a VALUES list writes them for many timers (bulk_update's CASE per column and row
# costs more to build than to run).
FINISHED_SQL = """
UPDATE sla_slatimer AS timer SET state = v.state, used = v.used,
    segment_started_at = v.segment_started_at, met_at = v.met_at, stopped_at = v.stopped_at,
    next_escalation_at = NULL, updated_at = v.updated_at
FROM (VALUES %s) AS v(id, state, used, segment_started_at, met_at, stopped_at, updated_at)
WHERE timer.id = v.id
"""
FINISHED_ROW = (
    "(%s, %s, %s::interval, %s::timestamptz, %s::timestamptz, %s::timestamptz, %s::timestamptz)"
)


def _write_finished(timers: list[SlaTimer]) -> None:
    from psycopg2.extras import execute_values

    rows = [
        (t.pk, t.state, t.used, t.segment_started_at, t.met_at, t.stopped_at, t.updated_at)
        for t in timers
    ]
    if rows:
        with connection.cursor() as cursor:
            raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
            execute_values(raw, FINISHED_SQL, rows, template=FINISHED_ROW, page_size=500)


def _follow_status(ticket: Ticket, old: str, new: str, now: datetime) -> None:
    ticket_id = ticket.pk
    _sync_first_response(ticket, now)
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
        # Stamped by the resolving process's clock: never later than the desk's now.
        at = min(ticket.resolved_at or now, now)
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
    now = _lock_ticket_sla(ticket_id)
    ticket = Ticket.objects.get(pk=ticket_id)
    had_progress = SlaTimer.objects.filter(
        ticket_id=ticket_id, metric=Metric.PROGRESS_UPDATE, state__in=ACTIVE_TIMER_STATES
    ).exists()
    _sync_first_response(ticket, now)
    if not had_progress:
        return  # the progress clock was just started by the first response
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
    now = _lock_ticket_sla(ticket_id)
    ticket = Ticket.objects.get(pk=ticket_id)
    timers = _active_timers(ticket_id)
    if not timers:
        return []
    policy = policy_for(ticket)
    if policy is None:
        return []
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
