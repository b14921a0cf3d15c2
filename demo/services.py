"""Load the demo desk: organisation, people, teams, catalogue and about 300 tickets.

Idempotent: every row is found by a stable key (a unit, team or system code, a username, and
for tickets `external_source="demo"` + `external_ref`), so a second run creates nothing: the
demo's units, teams, people and systems are put back to their demo values (passwords are set
only when an account is created) and existing tickets are left as they are. Tickets are
created and moved only through `tickets.services`, exactly as people would move them, so the
operation log, the SLA timers and every other app's reactions are real. Their times are the
time of seeding (the services stamp `now`); the history over weeks grows from use.

Other apps react to new tickets after commit (routing classifies and routes, may assign), so
every step re-reads the ticket and decides from its actual status, team and owner. Tickets
meant to stay `new` are put in the manual triage queue in the transaction that creates them,
so automatic routing leaves them to a person.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from accounts.choices import AssignmentStrategy, Tier
from accounts.models import OrgUnit, Team, TeamMembership, User
from catalog.models import Category, InformationSystem, RequestType, SystemModule
from tickets import services as ticket_services
from tickets import wiring
from tickets.choices import Channel, PendingReason, Priority, Status
from tickets.exceptions import TicketError
from tickets.models import Ticket
from tickets.permissions import can_dispatch

from . import data

logger = logging.getLogger(__name__)

DEMO_SOURCE = "demo"
EMAIL_DOMAIN = "huaxin.example.com"
# A ticket that cannot reach its target within this many steps stays where it is.
MAX_STEPS = 14


@dataclass
class SeedReport:
    """What one run of `demo_seed` did."""

    units: int = 0
    teams: int = 0
    users: int = 0
    systems: int = 0
    tickets_created: int = 0
    tickets_existing: int = 0
    statuses: Counter = field(default_factory=Counter)
    stopped_early: list[str] = field(default_factory=list)
    classifier: str = ""
    history_created: int = 0


# --- organisation, people, catalogue --------------------------------------------------------


def demo_units_sync() -> dict[str, OrgUnit]:
    """The group company and its three units (a tree, found by code)."""
    units: dict[str, OrgUnit] = {}
    for code, name, name_zh, kind, parent_code in data.UNITS:
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            values = {"code": code, "name": name, "name_zh": name_zh, "kind": kind}
            if parent_code is None:
                unit = OrgUnit.add_root(**values)
            else:
                unit = OrgUnit.objects.get(pk=units[parent_code].pk).add_child(**values)
        elif (unit.name, unit.name_zh, unit.kind) != (name, name_zh, kind):
            unit.name, unit.name_zh, unit.kind = name, name_zh, kind
            unit.save(update_fields=["name", "name_zh", "kind"])
        units[code] = unit
    return units


def demo_teams_sync() -> dict[str, Team]:
    """The front-office team, two middle-office expert teams and three back-office teams."""
    teams: dict[str, Team] = {}
    for code, name, name_zh, tier, escalates_to, on_duty, strategy, mailbox in data.TEAMS:
        teams[code], _ = Team.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "tier": tier,
                "escalates_to": teams.get(escalates_to) if escalates_to else None,
                "is_on_duty": on_duty,
                "assignment_strategy": strategy,
                "email": f"{mailbox}@{EMAIL_DOMAIN}",
            },
        )
    return teams


def _user_sync(
    *, username: str, display_name: str, password_hash: str, **values
) -> tuple[User, bool]:
    english = display_name.split(" ")
    defaults = {
        "display_name": display_name,
        "first_name": english[0],
        "last_name": english[1] if len(english) > 2 else "",
        "email": f"{username}@{EMAIL_DOMAIN}",
        **values,
    }
    user, created = User.objects.get_or_create(username=username, defaults=defaults)
    if created:
        # One precomputed hash for every account: hashing 38 passwords one by one costs
        # seconds, and the demo password is published anyway.
        user.password = password_hash
        user.save(update_fields=["password"])
    else:
        changed = [name for name, value in defaults.items() if getattr(user, name) != value]
        if changed:
            for name in changed:
                setattr(user, name, defaults[name])
            user.save(update_fields=changed)
    return user, created


def demo_people_sync(*, units: dict[str, OrgUnit], teams: dict[str, Team]) -> dict[str, User]:
    """Staff of every role in their teams (with skills and leads) and 20 requesters."""
    groups = {group.name: group for group in Group.objects.all()}
    password_hash = make_password(data.DEMO_PASSWORD)
    people: dict[str, User] = {}
    group_unit = units[data.UNITS[0][0]]
    for username, display_name, role, team_code, skills, is_lead in data.STAFF:
        is_admin = role == "administrator"
        user, _ = _user_sync(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            unit=group_unit,
            is_staff=is_admin,
            is_superuser=is_admin,
        )
        user.groups.add(groups[role])
        if team_code:
            membership, created = TeamMembership.objects.get_or_create(
                team=teams[team_code], user=user, defaults={"skills": skills}
            )
            if not created and membership.skills != skills:
                membership.skills = skills
                membership.save(update_fields=["skills"])
            if is_lead and teams[team_code].lead_id != user.pk:
                teams[team_code].lead = user
                teams[team_code].save(update_fields=["lead"])
        if role == "manager":
            user.managed_units.add(group_unit)
        people[username] = user
    for index, (username, display_name) in enumerate(data.REQUESTERS):
        unit = units[data.REQUESTER_UNITS[index % len(data.REQUESTER_UNITS)]]
        user, _ = _user_sync(
            username=username, display_name=display_name, password_hash=password_hash, unit=unit
        )
        user.groups.add(groups["requester"])
        people[username] = user
    return people


def demo_catalogue_sync(*, teams: dict[str, Team]) -> dict[str, InformationSystem]:
    """The information systems, each owned by a back-office team, and their modules."""
    systems: dict[str, InformationSystem] = {}
    for code, name, name_zh, team_code, is_core, description, modules in data.SYSTEMS:
        system, _ = InformationSystem.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "owner_team": teams[team_code],
                "is_core": is_core,
                "description": description,
                "is_active": True,
            },
        )
        for module_code, module_name, module_zh in modules:
            SystemModule.objects.update_or_create(
                system=system,
                code=module_code,
                defaults={"name": module_name, "name_zh": module_zh, "is_active": True},
            )
        systems[code] = system
    return systems


def _bootstrap_classifier() -> str:
    """Train the desk's first classifier models from routing's built-in bilingual examples."""
    from routing.services import routing_bootstrap_models

    results = routing_bootstrap_models() or []
    if not results:
        return "classifier: models already trained"
    parts = []
    for result in results:
        target = getattr(result, "target", "?")
        if getattr(result, "trained", False):
            parts.append(f"{target} trained")
        else:
            parts.append(f"{target} not trained ({getattr(result, 'reason', '')})")
    return "classifier: " + "; ".join(parts)


# --- tickets --------------------------------------------------------------------------------


def priority_for(impact: int, urgency: int) -> str:
    """The default impact × urgency matrix (PRODUCT.md §4): both critical → P1, ..."""
    score = impact + urgency
    if score <= 2:
        return Priority.P1
    if score <= 4:
        return Priority.P2
    if score <= 6:
        return Priority.P3
    return Priority.P4


@dataclass
class TicketPlan:
    """Where one demo ticket should end up and how it gets there."""

    ref: str
    target: str
    scenario: data.Scenario
    chinese: bool
    channel: str
    requester: User
    via_back: bool
    verify_fails_once: bool
    rejected_once: bool
    pending_reason: str
    cancel_mode: str
    location: tuple[str, str]
    resolution: tuple[str, str]
    done: list[str] = field(default_factory=list)


class _Desk:
    """The people and catalogue the ticket plans act with (loaded once)."""

    def __init__(self, people: dict[str, User], teams: dict[str, Team]):
        self.people = people
        self.teams = teams
        self.request_types = {rt.code: rt for rt in RequestType.objects.all()}
        self.categories = {c.code: c for c in Category.objects.all()}
        self.systems = {s.code: s for s in InformationSystem.objects.all()}
        self.modules = {
            (m.system.code, m.code): m for m in SystemModule.objects.select_related("system")
        }
        self.dispatchers = [people[u] for u in ("tier1", "chen.jing", "zhao.lei")]
        self.experts = [people[u] for u in ("expert", "huang.wei", "lin.tao", "he.min")]
        self._members: dict[int, list[User]] = {}
        self._turn = 0

    def members(self, team_id: int) -> list[User]:
        if team_id not in self._members:
            self._members[team_id] = [
                m.user
                for m in TeamMembership.objects.filter(team_id=team_id)
                .select_related("user")
                .order_by("user__username")
                if m.user.has_perm("accounts.handle_tickets")
            ]
        return self._members[team_id]

    def next_of(self, people: list[User]) -> User:
        self._turn += 1
        return people[self._turn % len(people)]


def _plans(desk: _Desk, count: int) -> list[TicketPlan]:
    """A deterministic list of ticket plans: the same every run."""
    rng = random.Random(20240601)  # fixed: the demo must be the same on every machine
    total = sum(n for _, n in data.STATUS_MIX)
    targets = []
    for status, n in data.STATUS_MIX:
        # Every status at least once, whatever the count.
        targets += [status] * max(1, round(n * count / total))
    rng.shuffle(targets)
    requesters = [desk.people[username] for username, _ in data.REQUESTERS]
    channels = [c for c, _ in data.CHANNEL_MIX]
    weights = [w for _, w in data.CHANNEL_MIX]
    plans = []
    for index, target in enumerate(targets, start=1):
        # The vague last scenario is what tickets still awaiting classification look like.
        scenario = (
            data.SCENARIOS[-1]
            if target == "new" and index % 3 == 0
            else rng.choice(data.SCENARIOS[:-1])
        )
        channel = rng.choices(channels, weights)[0]
        if channel == "alert" and scenario.request_type != "fault":
            channel = "portal"
        plans.append(
            TicketPlan(
                ref=f"demo-{index:04d}",
                target=target,
                scenario=scenario,
                chinese=rng.random() < 0.6,
                channel=channel,
                requester=rng.choice(requesters),
                # A ticket still waiting unassigned waits in the middle office's queue (its
                # experts pick escalations themselves): the back-office teams assign at once.
                via_back=(
                    scenario.request_type in {"fault", "defect", "change_request"}
                    or rng.random() < 0.2
                )
                and target != Status.QUEUED,
                verify_fails_once=rng.random() < 0.12,
                rejected_once=rng.random() < 0.1,
                pending_reason=rng.choice(
                    [PendingReason.REQUESTER] * 3
                    + [PendingReason.VENDOR, PendingReason.CHANGE, PendingReason.OTHER]
                ),
                cancel_mode=rng.choice(["withdrawn", "withdrawn", "invalid", "duplicate"]),
                location=rng.choice(data.LOCATIONS),
                resolution=rng.choice(data.RESOLUTIONS),
            )
        )
    return plans


def _text(plan: TicketPlan, pair: tuple[str, str]) -> str:
    return pair[1] if plan.chinese else pair[0]


def _create(desk: _Desk, plan: TicketPlan) -> tuple[Ticket, bool]:
    scenario = plan.scenario
    kind, system, module = scenario.request_type, scenario.system, scenario.module
    title, description = scenario.chinese if plan.chinese else scenario.english
    location = _text(plan, plan.location)
    description = f"{description}\n\n{'地点' if plan.chinese else 'Location'}: {location}"
    if plan.channel == "alert":
        title = f"[FIRING] {scenario.english[0]}"
    created_by = None  # e-mail, API, chat bot and alerts arrive through integrations
    if plan.channel == Channel.PORTAL:
        created_by = plan.requester
    elif plan.channel in (Channel.PHONE, Channel.IM):
        created_by = desk.next_of(desk.dispatchers)
    with transaction.atomic():
        ticket, created = ticket_services.ticket_create(
            requester=plan.requester,
            title=title,
            description=description,
            channel=plan.channel,
            created_by=created_by,
            system=desk.systems.get(system) if system else None,
            module=desk.modules.get((system, module)) if module else None,
            # Agents logging a call classify as they type; other channels leave it to routing.
            request_type=desk.request_types[kind]
            if created_by and created_by != plan.requester
            else None,
            external_source=DEMO_SOURCE,
            external_ref=plan.ref,
        )
        if created and plan.target == Status.NEW:
            # The manual triage queue (人工兜底): in the same transaction as the creation, so
            # automatic routing (which runs after commit) leaves these to a person.
            ticket_services.ticket_send_to_triage(
                ticket_id=ticket.pk,
                reason="信息不足，无法自动分类，转人工分派。"
                if plan.chinese
                else "Not enough detail to classify automatically: left for manual triage.",
            )
    return ticket, created


def _entry_team(desk: _Desk, plan: TicketPlan) -> Team:
    system = plan.scenario.system
    entry_tier = desk.request_types[plan.scenario.request_type].entry_tier
    if entry_tier == Tier.FRONT:
        return desk.teams["front-desk"]
    owner = desk.systems[system].owner_team.code if system else ""
    return desk.teams["middle-business" if owner == "back-apps" else "middle-tech"]


def _owner_team(desk: _Desk, ticket: Ticket, plan: TicketPlan) -> Team:
    if ticket.system_id:
        return ticket.system.owner_team
    return desk.teams["back-infra"]


def _dispatcher_of(desk: _Desk, ticket: Ticket, owner: User | None) -> User | None:
    """Who hands the ticket on: its owner, else a member of its team allowed to dispatch
    (back-office engineers are not)."""
    for person in [owner, *desk.members(ticket.team_id)]:
        if person is not None and can_dispatch(ticket, person):
            return person
    return None


def _cancel_in_progress(plan: TicketPlan, ticket: Ticket, owner: User | None) -> None:
    """Rejected as invalid by its owner, or merged into an earlier open ticket on the same
    system (a duplicate)."""
    if plan.cancel_mode == "duplicate":
        original = (
            Ticket.objects.filter(
                external_source=DEMO_SOURCE,
                status__in=[Status.QUEUED, Status.IN_PROGRESS],
                system_id=ticket.system_id,
            )
            .exclude(pk=ticket.pk)
            .order_by("id")
            .first()
        )
        if original is not None:
            ticket_services.ticket_merge(
                ticket_id=ticket.pk,
                actor=owner,
                into=original,
                reason="重复提交" if plan.chinese else "Same problem as the earlier ticket.",
            )
            return
    ticket_services.ticket_cancel(
        ticket_id=ticket.pk,
        actor=owner,
        reason="不属于服务台受理范围" if plan.chinese else "Not a service desk request.",
    )


def _step(desk: _Desk, plan: TicketPlan, ticket: Ticket) -> bool:
    """Make one move toward the plan's target; False when there is nothing more to do."""
    status, target = ticket.status, plan.target
    if _reached(plan, ticket) or target == Status.NEW:
        return False
    resolution = _text(plan, plan.resolution)
    owner = ticket.assignee
    if status == Status.NEW:
        if target == Status.NEW:
            return False
        if target == Status.CANCELLED and plan.cancel_mode == "withdrawn":
            ticket_services.ticket_cancel(ticket_id=ticket.pk, actor=plan.requester)
            return True
        scenario = plan.scenario
        dispatcher = desk.next_of(desk.dispatchers)
        if ticket.request_type_id is None or ticket.classification_confidence is None:
            # Nobody classified it yet: the dispatcher does, as in manual triage.
            ticket_services.ticket_classify(
                ticket_id=ticket.pk,
                actor=dispatcher,
                request_type=desk.request_types[scenario.request_type],
                category=desk.categories.get(scenario.category) if scenario.category else None,
                system=desk.systems.get(scenario.system) if scenario.system else None,
                impact=scenario.impact,
                urgency=scenario.urgency,
                priority=priority_for(scenario.impact, scenario.urgency),
            )
        team = _entry_team(desk, plan)
        ticket_services.ticket_route(
            ticket_id=ticket.pk, actor=dispatcher, tier=team.tier, team=team
        )
        return True
    if status == Status.QUEUED:
        if target == Status.CANCELLED and plan.cancel_mode == "withdrawn":
            ticket_services.ticket_cancel(ticket_id=ticket.pk, actor=plan.requester)
            return True
        members = desk.members(ticket.team_id)
        if not members:
            ticket_services.ticket_dispatch(
                ticket_id=ticket.pk, actor=None, team=_entry_team(desk, plan), reason=""
            )
            return True
        agent = desk.next_of(members)
        ticket_services.ticket_take(ticket_id=ticket.pk, actor=agent)
        if int(plan.ref[-1]) % 2 == 0:
            ticket_services.comment_add(
                ticket_id=ticket.pk,
                actor=agent,
                body="收到，正在处理。" if plan.chinese else "Thanks, we are on it.",
            )
        return True
    if status == Status.IN_PROGRESS:
        if target == Status.CANCELLED:
            _cancel_in_progress(plan, ticket, owner)
            return True
        wants_back = target == Status.PENDING_VERIFICATION or plan.via_back
        if wants_back and ticket.tier != Tier.BACK:
            if ticket.tier == Tier.FRONT:
                # Functional escalation: the front office hands over to the middle office.
                next_team = ticket.team.escalates_to or desk.teams["middle-tech"]
                reason = "需中台专家分析" if plan.chinese else "Needs an expert's analysis."
            else:
                # The middle office dispatches to the team that owns the system.
                next_team = _owner_team(desk, ticket, plan)
                reason = "转后台处理" if plan.chinese else "Handing over to the owning team."
            ticket_services.ticket_dispatch(
                ticket_id=ticket.pk,
                actor=owner,
                team=next_team,
                reason=reason,
                escalation=ticket.tier == Tier.FRONT,
            )
            return True
        if target == Status.QUEUED:
            # Someone (automatic assignment) took it: escalate to the next team of the chain,
            # where it waits in the queue once a team does not assign automatically.
            next_team = ticket.team.escalates_to or _owner_team(desk, ticket, plan)
            if next_team.assignment_strategy != AssignmentStrategy.MANUAL:
                # Not a queue that keeps it waiting: the technical experts' queue does.
                next_team = desk.teams["middle-tech"]
            actor = _dispatcher_of(desk, ticket, owner)
            if next_team.pk == ticket.team_id or actor is None:
                return False
            ticket_services.ticket_dispatch(
                ticket_id=ticket.pk,
                actor=actor,
                team=next_team,
                reason="需要上级支持" if plan.chinese else "Needs the next tier.",
                escalation=ticket.team.escalates_to == next_team,
            )
            return True
        if target == Status.PENDING:
            if plan.pending_reason == PendingReason.REQUESTER:
                ticket_services.comment_add(
                    ticket_id=ticket.pk,
                    actor=owner,
                    body="请提供报错截图。"
                    if plan.chinese
                    else "Please send a screenshot of the error.",
                )
            ticket_services.ticket_suspend(
                ticket_id=ticket.pk, actor=owner, reason=plan.pending_reason
            )
            return True
        if target == Status.IN_PROGRESS:
            return False
        ticket_services.ticket_resolve(ticket_id=ticket.pk, actor=owner, resolution=resolution)
        return True
    if status == Status.PENDING:
        if plan.pending_reason == PendingReason.REQUESTER:
            ticket_services.comment_add(
                ticket_id=ticket.pk,
                actor=plan.requester,
                body="截图已上传。" if plan.chinese else "Screenshot attached.",
            )
            if Ticket.objects.get(pk=ticket.pk).status == Status.PENDING:
                ticket_services.ticket_resume(ticket_id=ticket.pk, actor=owner)
        else:
            ticket_services.ticket_resume(ticket_id=ticket.pk, actor=owner)
        return True
    if status == Status.PENDING_VERIFICATION:
        expert = desk.next_of(desk.experts)
        if plan.verify_fails_once and "verify_fail" not in plan.done:
            plan.done.append("verify_fail")
            ticket_services.ticket_verify(
                ticket_id=ticket.pk,
                actor=expert,
                passed=False,
                note="验证未通过，问题仍可复现。" if plan.chinese else "Still reproducible.",
            )
            return True
        ticket_services.ticket_verify(ticket_id=ticket.pk, actor=expert, passed=True)
        return True
    if status == Status.RESOLVED:
        if plan.rejected_once and "reject" not in plan.done:
            plan.done.append("reject")
            ticket_services.ticket_reject(
                ticket_id=ticket.pk,
                actor=plan.requester,
                reason="问题依旧存在。" if plan.chinese else "It still happens.",
            )
            return True
        if target == Status.CLOSED:
            ticket_services.ticket_confirm(ticket_id=ticket.pk, actor=plan.requester)
            return True
        return False
    return False


def _reached(plan: TicketPlan, ticket: Ticket) -> bool:
    if ticket.status != plan.target:
        return False
    # Open tickets of the back-office flows stop in the back office, not before it.
    if (
        plan.via_back
        and plan.target in (Status.QUEUED, Status.IN_PROGRESS, Status.PENDING)
        and ticket.tier != Tier.BACK
    ):
        return False
    # A ticket the requester will reject once is not done at its first resolution.
    return not (plan.target == Status.RESOLVED and plan.rejected_once and "reject" not in plan.done)


def _advance(desk: _Desk, plan: TicketPlan, ticket: Ticket) -> bool:
    """Move the ticket step by step toward the plan's target; True when it got there."""
    for _ in range(MAX_STEPS):
        ticket = Ticket.objects.select_related("team", "system", "assignee").get(pk=ticket.pk)
        if _reached(plan, ticket):
            return True
        try:
            moved = _step(desk, plan, ticket)
        except (TicketError, ValidationError, PermissionDenied) as exc:
            logger.warning("demo ticket %s stopped at %s: %s", plan.ref, ticket.status, exc)
            return False
        if not moved:
            break
        plan.done.append(ticket.status)
    return _reached(plan, Ticket.objects.get(pk=ticket.pk))


def demo_seed(
    *, ticket_count: int = 300, train_classifier: bool = True, history_days: int = 0
) -> SeedReport:
    """Create or update the whole demo desk; safe to run again (nothing is duplicated).

    Side effects: new tickets fire the ticket reactions of every installed app (routing, SLA,
    notifications) after each commit, as real ones do.
    """
    report = SeedReport()
    with connection.cursor() as cursor:
        # Thousands of small commits: not waiting for each one's disk flush makes seeding
        # several times faster, and a crash can only lose demo rows, which a rerun recreates.
        cursor.execute("SET synchronous_commit TO off")
    with transaction.atomic():
        units = demo_units_sync()
        teams = demo_teams_sync()
        people = demo_people_sync(units=units, teams=teams)
        systems = demo_catalogue_sync(teams=teams)
        # ~40 knowledge articles in both languages for the demo systems (idempotent).
        from knowledge.demo_seed import knowledge_demo_seed

        knowledge_demo_seed(owner=people["expert"])
    report.units, report.teams, report.users = len(units), len(teams), len(people)
    report.systems = len(systems)
    existing = set(
        Ticket.objects.filter(external_source=DEMO_SOURCE).values_list("external_ref", flat=True)
    )
    desk = _Desk(people, teams)
    plans = _plans(desk, ticket_count)
    if train_classifier:
        # Trains only the targets without an active model, so a desk whose models were lost
        # (or were never trained, e.g. seeded with --skip-classifier) gets them back.
        report.classifier = _bootstrap_classifier()
    # One reactions batch for all the tickets, as the intake drain has for its batches: the
    # reference data the reactions read (rules, models, priority matrix, SLA policies) is read
    # once, not once per ticket step. Nothing below changes that data.
    with wiring.batch():
        for plan in plans:
            if plan.ref in existing:
                report.tickets_existing += 1
                continue
            ticket, created = _create(desk, plan)
            if not created:
                report.tickets_existing += 1
                continue
            report.tickets_created += 1
            if not _advance(desk, plan, ticket):
                report.stopped_early.append(plan.ref)
    report.statuses = Counter(
        Ticket.objects.filter(external_source=DEMO_SOURCE).values_list("status", flat=True)
    )
    # The service catalogue and the closed loop (ratings, return visits, inspections).
    from feedback.seed import feedback_seed
    from servicecatalog.seed import catalogue_seed

    catalogue_seed()
    feedback_seed(source=DEMO_SOURCE)

    if history_days:
        from .history import demo_history_seed

        report.history_created = demo_history_seed(people=people, teams=teams, days=history_days)
    return report
