"""About 90 days of demo history, so the reports show real shapes on a fresh `make run`.

Every ticket is created and moved through the ticket services with the clock moved to the
moment of each step (time-machine, a runtime dependency for this reason), in one global time
order, with the SLA sweep run before a step at most hourly in simulated time: breaches, warnings and
escalations are the SLA engine's own. The mix: first responses and resolutions mostly in time
and some late, pending periods on the requester, escalations to the middle office, rejections
(reopens), low and high ratings, two releases followed by a spike of one request type on the
released system, and the demo's recurring scenarios as repeated problems.

Idempotent: history tickets carry `external_source="demo-history"` and a stable reference; a
second run finds them all and only refreshes the reports. Deterministic (a fixed seed).
"""

from __future__ import annotations

import heapq
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Team, User
from catalog.models import InformationSystem, RequestType, SystemModule
from sla import services as sla_services
from tickets import services as ticket_services
from tickets import wiring
from tickets.choices import Channel, PendingReason, Status
from tickets.exceptions import TicketError
from tickets.models import Ticket

from . import data

logger = logging.getLogger(__name__)

HISTORY_SOURCE = "demo-history"
SWEEP_EVERY = timedelta(hours=1)
# (days before today, system code, version, request type that spikes, extra tickets per day)
RELEASES = [
    (41, "oa", "OA 5.2", "defect", (12, 9, 5)),
    (16, "email", "Mail 2026.3", "account_permission", (10, 7, 4)),
]


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    plan: int = field(compare=False)
    action: str = field(compare=False)


@dataclass
class _Plan:
    ref: str
    scenario: data.Scenario
    chinese: bool
    requester: User
    created_at: datetime
    late: bool
    pending: bool
    escalate: bool
    reject: bool
    rate: int | None
    stay_open: bool
    ticket_id: int | None = None


def _when(day, rng: random.Random) -> datetime:
    zone = timezone.get_current_timezone()
    minute = rng.randint(8 * 60, 18 * 60)
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)


def _plans(requesters: list[User], days: int, rng: random.Random) -> list[_Plan]:
    today = timezone.localdate()
    scenarios = data.SCENARIOS[:-1]
    spikes = {}
    for before, system, _version, request_type, extra in RELEASES:
        chosen = [s for s in scenarios if s.system == system and s.request_type == request_type]
        chosen = chosen or [s for s in scenarios if s.system == system]
        for offset, count in enumerate(extra, start=1):
            spikes[before - offset] = (chosen, count)
    plans = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        count = rng.randint(4, 6) if day.weekday() < 5 else rng.randint(0, 2)
        picks = [rng.choice(scenarios) for _ in range(count)]
        if back in spikes:
            chosen, extra = spikes[back]
            picks += [rng.choice(chosen) for _ in range(extra)]
        for scenario in picks:
            late = rng.random() < 0.15
            plans.append(
                _Plan(
                    ref=f"hist-{len(plans) + 1:05d}",
                    scenario=scenario,
                    chinese=rng.random() < 0.6,
                    requester=rng.choice(requesters),
                    created_at=_when(day, rng),
                    late=late,
                    pending=rng.random() < 0.15,
                    escalate=rng.random() < 0.2,
                    reject=rng.random() < 0.08,
                    rate=(rng.choice([1, 2, 2, 3]) if late else rng.choice([3, 4, 5, 5, 5]))
                    if rng.random() < 0.7
                    else None,
                    stay_open=back <= 3 and rng.random() < 0.5,
                )
            )
    return plans


def _sweep(now: datetime) -> None:
    """What beat's SLA sweep and its worker tasks do, in this process, at `now`."""
    with time_machine.travel(now, tick=False):
        for level, ids in sla_services.sla_due_timer_ids(now=now).items():
            if ids:
                sla_services.sla_timers_process(timer_ids=ids, level=str(level))


class _Walker:
    """Runs the steps of every plan in time order, acting as the people a desk would."""

    def __init__(self, plans: list[_Plan], teams: dict[str, Team], dispatcher: User):
        self.plans = plans
        self.dispatcher = dispatcher
        self.teams = teams
        self.types = {rt.code: rt for rt in RequestType.objects.all()}
        self.systems = {s.code: s for s in InformationSystem.objects.all()}
        self.modules = {
            (m.system.code, m.code): m for m in SystemModule.objects.select_related("system")
        }
        self.members: dict[int, list[User]] = {}
        self.rng = random.Random(7)
        self.queue: list[_Step] = []
        self.seq = 0

    def push(self, at: datetime, plan: int, action: str) -> None:
        self.seq += 1
        heapq.heappush(self.queue, _Step(at, self.seq, plan, action))

    def people(self, team_id: int | None) -> list[User]:
        if team_id is None:
            return []
        if team_id not in self.members:
            team = Team.objects.get(pk=team_id)
            self.members[team_id] = [
                u
                for u in team.members.order_by("username")
                if u.has_perm("accounts.handle_tickets")
            ]
        return self.members[team_id]

    def run(self, until: datetime) -> None:
        for index, plan in enumerate(self.plans):
            if plan.ticket_id is None:
                self.push(plan.created_at, index, "create")
        last_sweep = None
        while self.queue:
            step = heapq.heappop(self.queue)
            # The sweep of the hour before this step (beat runs it every minute; hourly is
            # enough for the history: a late clock is breached before the next step acts).
            if last_sweep is None or step.at - last_sweep >= SWEEP_EVERY:
                _sweep(step.at)
                last_sweep = step.at
            if step.at > until:
                continue
            with time_machine.travel(step.at, tick=False):
                try:
                    getattr(self, f"do_{step.action}")(step.plan, step.at)
                except (TicketError, ValidationError, PermissionDenied) as exc:
                    logger.debug("history %s %s: %s", self.plans[step.plan].ref, step.action, exc)

    def ticket(self, index: int) -> Ticket:
        return Ticket.objects.select_related("team").get(pk=self.plans[index].ticket_id)

    def owner(self, ticket: Ticket) -> User | None:
        if ticket.assignee_id:
            return ticket.assignee
        people = self.people(ticket.team_id)
        return people[ticket.pk % len(people)] if people else None

    # --- the steps -----------------------------------------------------------------------------

    def do_create(self, index: int, now: datetime) -> None:
        plan = self.plans[index]
        scenario = plan.scenario
        title, description = scenario.chinese if plan.chinese else scenario.english
        ticket, _created = ticket_services.ticket_create(
            requester=plan.requester,
            title=title,
            description=description,
            channel=Channel.PORTAL,
            created_by=plan.requester,
            system=self.systems.get(scenario.system) if scenario.system else None,
            module=self.modules.get((scenario.system, scenario.module)),
            external_source=HISTORY_SOURCE,
            external_ref=plan.ref,
        )
        plan.ticket_id = ticket.pk
        urgent = scenario.impact <= 2 and scenario.urgency <= 2
        respond = timedelta(
            minutes=self.rng.randint(5, 25) if urgent else self.rng.randint(20, 300)
        )
        if plan.late:
            respond *= 6 if urgent else 8
        self.push(now + respond, index, "take")

    def do_take(self, index: int, now: datetime) -> None:
        plan = self.plans[index]
        ticket = self.ticket(index)
        if ticket.status == Status.NEW:
            # Manual triage (人工兜底): the dispatcher routes it by hand to its entry team.
            entry = self.types.get(plan.scenario.request_type)
            team = self.teams["front-desk"]
            if entry is not None and entry.entry_tier != "front":
                team = self.teams["middle-tech"]
            ticket_services.ticket_route(
                ticket_id=ticket.pk, actor=self.dispatcher, tier=team.tier, team=team
            )
            ticket = self.ticket(index)
        owner = self.owner(ticket)
        if owner is None:
            return
        if ticket.status == Status.QUEUED:
            ticket_services.ticket_assign(ticket_id=ticket.pk, actor=owner, assignee=owner)
        else:
            ticket_services.comment_add(
                ticket_id=ticket.pk,
                actor=owner,
                body="正在处理。" if plan.chinese else "We are looking at it.",
            )
        if plan.stay_open:
            return
        hours = (
            self.rng.uniform(0.5, 3) if ticket.priority in ("P1", "P2") else self.rng.uniform(2, 40)
        )
        if plan.late:
            hours *= 4
        if plan.pending:
            self.push(now + timedelta(minutes=30), index, "suspend")
        if plan.escalate and ticket.tier == "front":
            self.push(now + timedelta(hours=hours / 3), index, "escalate")
        self.push(now + timedelta(hours=hours), index, "resolve")

    def do_suspend(self, index: int, now: datetime) -> None:
        ticket = self.ticket(index)
        owner = ticket.assignee
        if owner is None or ticket.status != Status.IN_PROGRESS:
            return
        ticket_services.ticket_suspend(
            ticket_id=ticket.pk, actor=owner, reason=PendingReason.REQUESTER, note="Need details"
        )
        self.push(now + timedelta(hours=self.rng.uniform(1, 20)), index, "requester_reply")

    def do_requester_reply(self, index: int, now: datetime) -> None:
        plan = self.plans[index]
        ticket_services.comment_add(
            ticket_id=plan.ticket_id,
            actor=plan.requester,
            body="补充信息如下。" if plan.chinese else "Here are the details.",
        )

    def do_escalate(self, index: int, now: datetime) -> None:
        ticket = self.ticket(index)
        if ticket.status not in (Status.QUEUED, Status.IN_PROGRESS) or ticket.tier != "front":
            return
        target = ticket.team.escalates_to if ticket.team else None
        target = target or self.teams.get("middle-tech")
        ticket_services.ticket_dispatch(
            ticket_id=ticket.pk,
            actor=self.owner(ticket),
            team=target,
            reason="需要专家分析" if self.plans[index].chinese else "Needs an expert.",
            escalation=True,
        )
        self.push(now + timedelta(minutes=self.rng.randint(10, 90)), index, "take_again")

    def do_take_again(self, index: int, now: datetime) -> None:
        ticket = self.ticket(index)
        owner = self.owner(ticket)
        if owner is not None and ticket.status == Status.QUEUED:
            ticket_services.ticket_assign(ticket_id=ticket.pk, actor=owner, assignee=owner)

    def do_resolve(self, index: int, now: datetime) -> None:
        plan = self.plans[index]
        ticket = self.ticket(index)
        if ticket.status == Status.PENDING:
            ticket_services.ticket_resume(ticket_id=ticket.pk, actor=ticket.assignee)
            ticket = self.ticket(index)
        if ticket.status == Status.QUEUED:
            owner = self.owner(ticket)
            if owner is None:
                return
            ticket_services.ticket_assign(ticket_id=ticket.pk, actor=owner, assignee=owner)
            ticket = self.ticket(index)
        if ticket.status != Status.IN_PROGRESS or ticket.assignee is None:
            return
        resolution = data.RESOLUTIONS[ticket.pk % len(data.RESOLUTIONS)]
        ticket_services.ticket_resolve(
            ticket_id=ticket.pk,
            actor=ticket.assignee,
            resolution=resolution[1] if plan.chinese else resolution[0],
        )
        if self.ticket(index).status == Status.PENDING_VERIFICATION:
            self.push(now + timedelta(minutes=self.rng.randint(20, 120)), index, "verify")
        else:
            self.after_resolved(index, now)

    def do_verify(self, index: int, now: datetime) -> None:
        experts = self.people(self.teams["middle-tech"].pk) + self.people(
            self.teams["middle-business"].pk
        )
        ticket_services.ticket_verify(
            ticket_id=self.plans[index].ticket_id, actor=experts[0], passed=True
        )
        self.after_resolved(index, now)

    def after_resolved(self, index: int, now: datetime) -> None:
        plan = self.plans[index]
        if plan.reject:
            plan.reject = False
            self.push(now + timedelta(hours=self.rng.uniform(1, 6)), index, "reject")
            return
        self.push(now + timedelta(hours=self.rng.uniform(1, 30)), index, "confirm")

    def do_reject(self, index: int, now: datetime) -> None:
        plan = self.plans[index]
        ticket_services.ticket_reject(
            ticket_id=plan.ticket_id,
            actor=plan.requester,
            reason="问题依旧" if plan.chinese else "It still happens.",
        )
        self.push(now + timedelta(hours=self.rng.uniform(2, 24)), index, "resolve")

    def do_confirm(self, index: int, now: datetime) -> None:
        from portal.services import ticket_rate

        plan = self.plans[index]
        ticket_services.ticket_confirm(ticket_id=plan.ticket_id, actor=plan.requester)
        if plan.rate:
            ticket_rate(ticket_id=plan.ticket_id, actor=plan.requester, score=plan.rate)


def _releases(systems: dict[str, InformationSystem]) -> int:
    from reports.services import release_create

    today = timezone.localdate()
    made = 0
    for before, system, version, _type, _extra in RELEASES:
        if system not in systems:
            continue
        try:
            release_create(
                actor=None,
                system=systems[system],
                version=version,
                released_on=today - timedelta(days=before),
                notes="Demo release",
            )
            made += 1
        except ValidationError:
            pass  # already in the calendar (a second run)
    return made


def demo_history_seed(*, people: dict[str, User], teams: dict[str, Team], days: int = 90) -> int:
    """Create the history tickets that do not exist yet; return how many were created. Then
    record the releases and bring the reports up to date (rollups, spikes, repeated problems)."""
    from reports.problems import repeated_problems_refresh
    from reports.rollups import rollup_refresh
    from reports.spikes import detect_spikes

    rng = random.Random(20260301)
    requesters = [people[username] for username, _ in data.REQUESTERS if username in people]
    plans = _plans(requesters, days, rng)
    existing = dict(
        Ticket.objects.filter(external_source=HISTORY_SOURCE).values_list("external_ref", "pk")
    )
    for plan in plans:
        plan.ticket_id = existing.get(plan.ref)
    todo = [p for p in plans if p.ticket_id is None]
    if todo:
        walker = _Walker(todo, teams, people["tier1"])
        # One reactions batch for the whole walk (see demo.services.demo_seed).
        with wiring.batch():
            walker.run(until=timezone.now())
    _releases({s.code: s for s in InformationSystem.objects.all()})
    rollup_refresh(full=True)
    today = timezone.localdate()
    detect_spikes(days=[today - timedelta(days=back) for back in range(days, 0, -1)])
    repeated_problems_refresh()
    return len(todo)
