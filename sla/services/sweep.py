"""The sweep's work: due timers found through partial indexes, each level handled exactly once
(lock, re-check, mark, act), escalation steps run in bulk through the ticket core."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from accounts.models import Team, User
from notifications.services import NotificationSpec, notify_many
from servicedesk import clock
from tickets.choices import EventKind
from tickets.events import EventRow, event_record_many, event_row
from tickets.models import Ticket
from tickets.services import EscalationMove, EscalationOutcome, ticket_escalate_many

from ..choices import ESCALATING_METRICS, Level, Metric, TimerState
from ..models import (
    EscalationStep,
    SlaTimer,
)
from .common import ROUTINE_PRIORITIES, _EscalationPolicies, sweep_batch_size
from .decisions import sla_decisions_refresh
from .messages import (
    _breach_subject,
    _breach_text,
    _metric_label,
    _specs,
    _warning_subject,
    _warning_text,
)
from .summary import sla_summary_refresh
from .tierspans import tier_spans_move


def _due(level: str, now: datetime | Now, *, routine_progress: bool):
    """Due timer ids of a level, through that level's partial index, oldest first."""
    if level == Level.WARNING:
        # A timer already past its due time is the breach level's alone (which marks the
        # warning too): listed under both, the warning's chunk would hold the row while the
        # breach's chunk skips it (SKIP LOCKED), and the breach would wait for the next sweep.
        timers = (
            SlaTimer.objects.filter(
                state=TimerState.RUNNING, warned_at__isnull=True, warn_at__lte=now
            )
            .exclude(due_at__lte=now)
            .order_by("warn_at")
        )
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
    """{level: [timer ids]} due now (by the desk's clock: the database's own `now()` inside
    the query), at most the batch size per level."""
    now = now or clock.now_in_query()
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
    # One "now" for the whole chunk, from the desk's clock: a worker whose own clock was
    # stepped forward cannot breach what is not due yet (servicedesk/clock.py).
    now = clock.now()
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
    events: list[EventRow] = []
    specs: list[NotificationSpec] = []
    managers = _Managers()
    chunk = _EscalationChunk(managers=managers, now=now)
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
            events.append(
                _event(ticket, EventKind.SLA_BREACHED, chunk.breach_text(timer), timer, now)
            )
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
                    chunk.breach_text(timer),
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

    _save_markers(warned, ["warned_at"], now)
    _save_markers(
        breached, ["breached_at", "warned_at", "escalation_level", "next_escalation_at"], now
    )
    event_record_many(events)
    # Tickets are locked (by ticket_escalate_many) in ticket order, so two chunks escalating timers
    # of the same tickets cannot deadlock on each other.
    escalations.sort(key=lambda item: (item[0].ticket_id, item[0].pk))
    for timer, due_steps in escalations:
        for step in due_steps:
            specs += chunk.run(timer, step)
        outcome.escalated.append(timer.pk)
    # The notifications before the moves: the moves take the receiving teams' assignment
    # locks (the hand-overs are assigned in the same write), held until this chunk commits,
    # so what follows them is kept short for a chunk of another worker waiting on them.
    notify_many(specs)
    moved = chunk.finish()
    # Warned or breached: the dashboard's flagged tickets (summary.py) and record
    # (decisions.py). A ticket moved to another team is left to the ASSIGNMENT_CHANGED
    # reaction, which refreshes both under its new team right after this commit (refreshing
    # it here too was the same work twice, with the receiving teams' locks held).
    unmoved = {timer.ticket_id for timer in timers} - moved
    if unmoved:
        sla_summary_refresh(ticket_ids=unmoved)
        if level != Level.WARNING:
            sla_decisions_refresh(ticket_ids=unmoved)
    return outcome


def _save_markers(timers: list[SlaTimer], fields: list[str], now: datetime) -> None:
    """One UPDATE per distinct combination of marker values (a chunk has a handful), cheaper
    than a per-row CASE over the whole chunk."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for timer in timers:
        groups[tuple(getattr(timer, name) for name in fields)].append(timer.pk)
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


class _EscalationChunk:
    """Runs the escalation steps of one chunk: notifications, the functional moves (in bulk
    through `ticket_escalate_many`), the log entries and the new tier stints in bulk."""

    def __init__(self, *, managers: _Managers, now: datetime) -> None:
        self.managers, self.now = managers, now
        self.events: list[EventRow] = []
        self.team_now: dict[int, Team | None] = {}
        self.moves: list[EscalationMove] = []
        self.move_data: list[dict] = []
        self._breach_texts: dict[int, str] = {}

    def breach_text(self, timer: SlaTimer) -> str:
        """A timer's breach in words, once per chunk: a breach that escalates says it in its
        log entry and again in the escalation's mail (the local time and the translation are
        most of its cost)."""
        if timer.pk not in self._breach_texts:
            self._breach_texts[timer.pk] = _breach_text(timer)
        return self._breach_texts[timer.pk]

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
            timer,
            Level.ESCALATION,
            users,
            subject,
            self.breach_text(timer),
            ticket,
            step=step.level,
        )

    def finish(self) -> set[int]:
        """Move the tickets (in bulk through `ticket_escalate_many`), write the log entries,
        and record the moved tickets' tier stints from the moves it made (the
        ASSIGNMENT_CHANGED reaction then finds them right and writes nothing). Returns the
        ids of the tickets moved."""
        outcome = ticket_escalate_many(moves=self.moves) if self.moves else EscalationOutcome()
        for move, data in zip(self.moves, self.move_data, strict=True):
            if move.ticket_id in outcome.refused:
                data.pop("reassigned_to", None)
                data["reassign"] = f"skipped: {outcome.refused[move.ticket_id]}"
        event_record_many(self.events)
        tier_spans_move(
            moves=[(m.ticket_id, m.new_tier, m.new_team_id) for m in outcome.moved], now=self.now
        )
        return {m.ticket_id for m in outcome.moved}
