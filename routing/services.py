"""Writes of classification and routing: automatic routing of new tickets, agents' corrections,
dispatch to the owning back-office team, training and activating classifier versions.

Ticket rows change only through `tickets.services`; these services decide (with
`routing.engine`), call them, and write the `routing.*` log entries with the reason of each
automatic decision.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import AssignmentStrategy, Tier
from accounts.models import Team, User
from catalog.models import Category, InformationSystem, RequestType, SystemModule
from tickets import services as ticket_services
from tickets.choices import Channel, EventKind, Status
from tickets.events import event_record
from tickets.exceptions import TicketError
from tickets.models import Ticket, TicketEvent

from . import engine, modelstore, training
from .choices import ExampleSource, Target
from .models import ClassifierModel, RoundRobinCursor, TrainingExample
from .turns import TeamTurns

logger = logging.getLogger(__name__)

# Training reads at most this many examples per target (the newest), so a nightly run stays
# bounded however long the desk has been running.
MAX_TRAINING_EXAMPLES = 50_000
# Files of this many newest versions per target are kept; older inactive files are removed.
KEEP_MODEL_FILES = 5
TRAINING_LOCK_KEY = 0x5D_0500  # a pg advisory lock: one training run at a time


# --- automatic routing of a new ticket ------------------------------------------------------


def routing_auto_route(*, ticket_id: int) -> Ticket:
    """Classify, prioritise, route and assign a new ticket (the TICKET_CREATED reaction).

    Guards: only a ticket still `new` and not yet in manual triage is touched, so running it
    twice changes nothing the second time. Without a request type (no rule, no confident
    model) the ticket stays new with `needs_triage` and the log says why. Every decision is
    logged with its reason; the model versions used are in the entries' data.
    """
    ticket = Ticket.objects.select_related("request_type", "category", "system").get(pk=ticket_id)
    if ticket.status != Status.NEW or ticket.needs_triage:
        return ticket
    # Decide outside the transaction: the model runs without holding the ticket's lock.
    decision = engine.classify(ticket)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
        if locked.status != Status.NEW or locked.needs_triage:
            return locked
        team, team_reason = (None, "")
        if decision.request_type is not None:
            team, team_reason = engine.choose_team(ticket, decision)
        data = decision.as_data()
        ticket_services.ticket_classify(
            ticket_id=ticket_id,
            actor=None,
            request_type=decision.request_type,
            category=decision.category,
            impact=decision.impact,
            urgency=decision.urgency,
            priority=decision.priority,
            confidence=decision.confidence,
            message=decision.summary,
            data=data,
        )
        event_record(
            ticket=locked,
            kind=EventKind.CLASSIFIED,
            message=decision.summary,
            is_public=False,
            data=data,
        )
        if decision.request_type is None or team is None:
            why = (
                _("No request type could be decided: %(why)s.")
                % {"why": "; ".join(decision.notes) or _("nothing matched")}
                if decision.request_type is None
                else _("The ticket cannot be routed: %(why)s.") % {"why": team_reason}
            )
            return ticket_services.ticket_send_to_triage(ticket_id=ticket_id, reason=why, data=data)
        ticket_services.ticket_route(
            ticket_id=ticket_id,
            actor=None,
            tier=team.tier,
            team=team,
            reason=team_reason,
            data=data,
        )
        if not _owned_by_logging_agent(ticket, team):
            _assign_in_team(ticket_id=ticket_id, team=team)
    return Ticket.objects.get(pk=ticket_id)


def routing_auto_route_many(*, ticket_ids: list[int]) -> list[int]:
    """`routing_auto_route` for an intake batch, in a few statements: the tickets locked in one
    query, decided in memory (the batch's predictions, rules and teams read once), then saved,
    logged and assigned through `ticket_route_new_many` (one UPDATE, one INSERT). Assignment
    keeps each team's members, loads and round-robin turn in memory across the batch, as if
    the tickets came one after another. Call inside a transaction holding
    `routing_lock_assignment()`.

    Returns the ids to route one by one with `routing_auto_route` (a call logged by an agent,
    a team assigning by skills, a classification that raised); tickets no longer new or
    already in triage are left alone.
    """
    tickets = ticket_services.lock_new_tickets(ticket_ids)
    turns = TeamTurns()
    moves, one_by_one = [], []
    for ticket_id in ticket_ids:
        ticket = tickets.get(ticket_id)
        if ticket is None or ticket.status != Status.NEW or ticket.needs_triage:
            continue
        if _maybe_logging_agents(ticket):
            one_by_one.append(ticket_id)
            continue
        try:
            decision = engine.classify(ticket)
        except Exception:
            logger.exception("classifying ticket %s in its batch failed", ticket_id)
            one_by_one.append(ticket_id)
            continue
        team, team_reason = (None, "")
        if decision.request_type is not None:
            team, team_reason = engine.choose_team(ticket, decision)
        if team is not None and team.assignment_strategy == AssignmentStrategy.SKILL:
            one_by_one.append(ticket_id)
            continue
        data = decision.as_data()
        move = ticket_services.IntakeMove(
            ticket=ticket,
            classify={
                "request_type": decision.request_type,
                "category": decision.category,
                "impact": decision.impact,
                "urgency": decision.urgency,
                "priority": decision.priority,
                "classification_confidence": decision.confidence,
            },
            summary=decision.summary,
            data=data,
        )
        moves.append(move)
        if decision.request_type is None:
            move.triage_reason = _("No request type could be decided: %(why)s.") % {
                "why": "; ".join(decision.notes) or _("nothing matched")
            }
            continue
        if team is None:
            move.triage_reason = _("The ticket cannot be routed: %(why)s.") % {"why": team_reason}
            continue
        move.team, move.route_reason = team, team_reason
        assignee, why = turns.choose(ticket, team, decision.priority)
        if assignee is None:
            move.queue_note = why
            continue
        move.assignee, move.assign_reason = assignee, why
    ticket_services.ticket_route_new_many(moves=moves)
    turns.save(move.team.pk for move in moves if move.assignee is not None)
    return one_by_one


def _maybe_logging_agents(ticket: Ticket) -> bool:
    """A phone or IM request an agent logged (see `_owned_by_logging_agent`)."""
    return (
        ticket.created_by_id is not None
        and ticket.created_by_id != ticket.requester_id
        and ticket.channel in (Channel.PHONE, Channel.IM)
    )


def routing_lock_assignment(team_ids: Iterable[int] | None = None) -> None:
    """Take the assignment locks (round-robin cursors) of `team_ids` (default: every team) in
    team order, for a transaction that assigns tickets of many teams (an intake batch, an SLA
    chunk's hand-overs): taking them one by one as tickets come could deadlock two such
    transactions. Held until the transaction ends."""
    team_ids = sorted(set(team_ids)) if team_ids is not None else engine.team_ids()
    RoundRobinCursor.objects.bulk_create(
        [RoundRobinCursor(team_id=pk) for pk in team_ids], ignore_conflicts=True
    )
    list(
        RoundRobinCursor.objects.select_for_update()
        .filter(team_id__in=team_ids)
        .order_by("team_id")
        .values_list("team_id", flat=True)
    )


def _owned_by_logging_agent(ticket: Ticket, team: Team) -> bool:
    """A phone or IM request an agent logged while talking to the caller stays with that
    agent (first-contact resolution) when it is routed to their own team; they route it on
    if they cannot solve it."""
    logger_id = ticket.created_by_id
    if (
        logger_id is None
        or logger_id == ticket.requester_id
        or ticket.channel not in (Channel.PHONE, Channel.IM)
        or not team.memberships.filter(user_id=logger_id).exists()
    ):
        return False
    ticket_services.ticket_assign(
        ticket_id=ticket.pk,
        actor=None,
        assignee=User.objects.get(pk=logger_id),
        reason=_("Logged by this agent on a call: they own it (first contact)."),
    )
    return True


def routing_assign_in_team(*, ticket_id: int, team_id: int) -> Ticket | None:
    """Assign a queued ticket within its team by the team's strategy, as intake does: after a
    dispatch or an escalation, or after another app routed it (a catalogue request). A team
    may choose "manual": it stays in the queue. Idempotent: a ticket that is no longer
    queued, unassigned, for that team is left alone."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return None
    return _assign_in_team(ticket_id=ticket_id, team=team)


def routing_send_to_triage_safely(*, ticket_id: int, reason: str) -> None:
    """The fallback when automatic routing failed: manual triage, saying why. Never raises."""
    try:
        if Ticket.objects.filter(pk=ticket_id, status=Status.NEW).exists():
            ticket_services.ticket_send_to_triage(ticket_id=ticket_id, reason=reason)
    except Exception:
        logger.exception("could not send ticket %s to manual triage", ticket_id)


def _assign_in_team(*, ticket_id: int, team: Team) -> Ticket | None:
    """Give a queued, unassigned ticket to a member by the team's strategy (in a savepoint:
    a failed assignment leaves the ticket in the queue, it does not undo the routing)."""
    try:
        with transaction.atomic():
            RoundRobinCursor.objects.bulk_create(
                [RoundRobinCursor(team=team)], ignore_conflicts=True
            )
            # The team's cursor is its assignment lock: concurrent tickets take turns here.
            cursor = RoundRobinCursor.objects.select_for_update().get(team=team)
            ticket = Ticket.objects.select_related(
                "category", "system", "module", "request_type"
            ).get(pk=ticket_id)
            if ticket.status != Status.QUEUED or ticket.assignee_id or ticket.team_id != team.pk:
                return None
            assignee, why = engine.choose_assignee(
                ticket, team, last_assignee_id=cursor.last_assignee_id
            )
            if assignee is None:
                event_record(ticket=ticket, kind=EventKind.ROUTED, message=why, is_public=False)
                return None
            result = ticket_services.ticket_assign(
                ticket_id=ticket_id, actor=None, assignee=assignee, reason=why
            )
            cursor.last_assignee = assignee
            cursor.save(update_fields=["last_assignee", "updated_at"])
            return result
    except (TicketError, ValidationError) as exc:
        logger.warning("automatic assignment of ticket %s failed: %s", ticket_id, exc)
        event_record(
            ticket=Ticket.objects.get(pk=ticket_id),
            kind=EventKind.ROUTED,
            message=_("Automatic assignment failed: %(error)s") % {"error": exc},
            is_public=False,
        )
        return None


# --- agents' corrections --------------------------------------------------------------------


def _example_text(ticket: Ticket) -> str:
    return engine.model_text(ticket)


@transaction.atomic
def routing_correct(
    *,
    ticket_id: int,
    actor: User,
    request_type: RequestType | None = None,
    category: Category | None = None,
    system: InformationSystem | None = None,
    module: SystemModule | None = None,
    team: Team | None = None,
) -> Ticket:
    """An agent corrects (or confirms) the classification; the ticket follows it.

    Guards: an agent who works on the ticket or may dispatch it (checked by
    `ticket_classify`); at least one value. A new ticket (e.g. from manual triage) is routed
    to `team`, else to the entry tier of its request type; a queued or owned ticket moves to
    `team` when given, or to the middle office when its corrected type starts there and it
    is still at the front; the receiving team's strategy assigns it. Each corrected target
    (request type, category, team) is stored as a training example, replacing an earlier one
    of this ticket.
    """
    if all(value is None for value in (request_type, category, system, module, team)):
        raise ValidationError(
            {"non_field_errors": [_("Give a request type, category, system or team.")]}
        )
    if not actor.has_perm("accounts.handle_tickets"):
        raise PermissionDenied(_("You may not classify this ticket."))
    before = Ticket.objects.select_related("request_type").get(pk=ticket_id)
    reason = _("classification corrected by %(agent)s") % {"agent": actor}
    ticket = ticket_services.ticket_classify(
        ticket_id=ticket_id,
        actor=actor,
        request_type=request_type,
        category=category,
        system=system,
        module=module,
        needs_triage=False if before.status == Status.NEW else None,
        message=reason,
        data={"correction": True},
    )
    effective_type = request_type or ticket.request_type
    destination: Team | None = None
    if ticket.status == Status.NEW:
        destination = team
        if destination is None and effective_type is not None:
            destination = engine.default_team(effective_type.entry_tier)
        if destination is None:
            raise ValidationError(
                {"team": [_("Choose a team (or a request type whose tier has a team).")]}
            )
        ticket_services.ticket_route(
            ticket_id=ticket_id, actor=actor, tier=destination.tier, team=destination, reason=reason
        )
        _assign_in_team(ticket_id=ticket_id, team=destination)
    elif ticket.status in (Status.QUEUED, Status.IN_PROGRESS):
        if team is not None and team.pk != ticket.team_id:
            destination = team
        elif (
            request_type is not None
            and request_type.pk != before.request_type_id
            and request_type.entry_tier == Tier.MIDDLE
            and ticket.tier == Tier.FRONT
        ):
            destination = engine.default_team(Tier.MIDDLE)
        if destination is not None:
            ticket_services.ticket_dispatch(
                ticket_id=ticket_id, actor=actor, team=destination, reason=reason
            )
            _assign_in_team(ticket_id=ticket_id, team=destination)
    text = _example_text(ticket)
    for target, value in (
        (Target.REQUEST_TYPE, request_type),
        (Target.CATEGORY, category),
        (Target.TEAM, team),
    ):
        if value is None:
            continue
        TrainingExample.objects.update_or_create(
            ticket=ticket,
            target=target,
            defaults={
                "text": text,
                "label": value.code,
                "source": ExampleSource.AGENT_CORRECTION,
                "created_by": actor,
                "created_at": timezone.now(),
            },
        )
    return Ticket.objects.get(pk=ticket_id)


# --- the middle office sends a ticket to the system's owner ---------------------------------


@transaction.atomic
def routing_dispatch_to_owner(*, ticket_id: int, actor: User) -> Ticket:
    """The middle office dispatches the ticket to the back-office team owning its system.

    Guards: the ticket names a system and is at the middle office; `ticket_dispatch` checks
    the actor may dispatch it and that it is not already queued there. The owner team's
    strategy then assigns it.
    """
    ticket = Ticket.objects.select_related("system__owner_team").get(pk=ticket_id)
    if ticket.system is None:
        raise ValidationError(
            {"system": [_("Set the affected system first: its owner team gets the ticket.")]}
        )
    if ticket.tier != Tier.MIDDLE:
        raise ValidationError(
            {"non_field_errors": [_("Only the middle office sends tickets to the system owner.")]}
        )
    owner = ticket.system.owner_team
    reason = _("dispatched to %(team)s, the owner of %(system)s") % {
        "team": owner.label,
        "system": ticket.system.label,
    }
    ticket_services.ticket_dispatch(
        ticket_id=ticket_id,
        actor=actor,
        team=owner,
        reason=reason,
        data={"system": ticket.system.code, "flow": getattr(ticket.request_type, "flow", "")},
    )
    _assign_in_team(ticket_id=ticket_id, team=owner)
    return Ticket.objects.get(pk=ticket_id)


# --- training data --------------------------------------------------------------------------


def _entry_tier_teams(ticket_ids: list[int]) -> dict[int, str]:
    """For closed tickets: the code of the last team each was queued at in its request
    type's entry tier (the team that routing should have picked)."""
    tickets = dict(
        Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "request_type__entry_tier")
    )
    teams = {team.pk: team for team in Team.objects.all()}
    found: dict[int, str] = {}
    events = (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind=EventKind.TEAM_CHANGED)
        .order_by("id")
        .values_list("ticket_id", "new_value")
    )
    for ticket_id, team_id in events:
        team = teams.get(team_id) if isinstance(team_id, int) else None
        if team is not None and team.tier == tickets.get(ticket_id):
            found[ticket_id] = team.code
    return found


def routing_collect_closed_examples(*, limit: int = 10_000) -> int:
    """Store the final classification of closed tickets as training examples (those not yet
    stored, at most `limit` per target). Returns how many were added. Safe to repeat."""
    added = 0
    closed = Ticket.objects.filter(status=Status.CLOSED, request_type__isnull=False)
    for target in Target:
        missing = closed.exclude(
            Exists(TrainingExample.objects.filter(ticket=OuterRef("pk"), target=target))
        )
        if target == Target.CATEGORY:
            missing = missing.filter(category__isnull=False)
        rows = list(missing.select_related("request_type", "category").order_by("-id")[:limit])
        if target == Target.TEAM:
            labels = _entry_tier_teams([t.pk for t in rows])
        elif target == Target.CATEGORY:
            labels = {t.pk: t.category.code for t in rows}
        else:
            labels = {t.pk: t.request_type.code for t in rows}
        examples = [
            TrainingExample(
                ticket=t,
                text=_example_text(t),
                target=target,
                label=labels[t.pk],
                source=ExampleSource.CLOSED_TICKET,
            )
            for t in rows
            if t.pk in labels
        ]
        added += len(TrainingExample.objects.bulk_create(examples, ignore_conflicts=True))
    return added


def routing_seed_examples() -> int:
    """Load the built-in bilingual examples (`routing.seed_examples`) as training data for the
    request type and the category. Adds only those not present; returns how many."""
    from .seed_examples import EXAMPLES

    existing = set(
        TrainingExample.objects.filter(source=ExampleSource.SEED).values_list(
            "target", "label", "text"
        )
    )
    rows = []
    for text, type_code, category_code in EXAMPLES:
        for target, label in ((Target.REQUEST_TYPE, type_code), (Target.CATEGORY, category_code)):
            if label and (target, label, text) not in existing:
                existing.add((target, label, text))
                rows.append(
                    TrainingExample(
                        text=text, target=target, label=label, source=ExampleSource.SEED
                    )
                )
    TrainingExample.objects.bulk_create(rows)
    return len(rows)


def known_labels(target: str) -> set[str]:
    """Labels a model may learn: the codes of the active taxonomy (retired ones are dropped)."""
    if target == Target.REQUEST_TYPE:
        return set(RequestType.objects.filter(is_active=True).values_list("code", flat=True))
    if target == Target.CATEGORY:
        return set(Category.objects.filter(is_active=True).values_list("code", flat=True))
    return set(Team.objects.values_list("code", flat=True))


def training_set(target: str) -> tuple[list[str], list[str]]:
    labels = known_labels(target)
    rows = (
        TrainingExample.objects.filter(target=target, label__in=sorted(labels))
        .order_by("-id")
        .values_list("text", "label")[:MAX_TRAINING_EXAMPLES]
    )
    pairs = sorted((text, label) for text, label in rows if engine.has_words(text))
    return [text for text, _label in pairs], [label for _text, label in pairs]


def fingerprint(texts: list[str], labels: list[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(label.encode())
        digest.update(b"\x1e")
        digest.update(text.encode("utf-8", "replace"))
        digest.update(b"\x1f")
    return digest.hexdigest()


# --- training and activating models ---------------------------------------------------------


@dataclass
class TrainingResult:
    """What one training run did for one target."""

    target: str
    trained: bool
    reason: str
    model: ClassifierModel | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.target}: {self.reason}"

    __repr__ = __str__


def _train_target(target: str, *, force: bool) -> TrainingResult:
    from .classifier import TextClassifier

    texts, labels = training_set(target)
    classes = sorted(set(labels))
    if len(classes) < 2:
        return TrainingResult(
            target,
            False,
            _("%(n)d example(s) with %(k)d label(s): at least two labels are needed")
            % {"n": len(texts), "k": len(classes)},
        )
    digest = fingerprint(texts, labels)
    active = ClassifierModel.objects.filter(target=target, is_active=True).first()
    # A version without a recorded configuration predates model selection (and its pickled
    # file no longer loads): it is retrained even when the data did not change.
    if active is not None and active.data_fingerprint == digest and active.config and not force:
        return TrainingResult(
            target,
            False,
            _("training data unchanged since v%(version)d") % {"version": active.version},
            model=active,
        )
    classifier = TextClassifier().fit(texts, labels)
    model, activated = training.store_version(
        target=target, classifier=classifier, texts=texts, labels=labels, digest=digest
    )
    _prune_files(target)
    reason = (
        _("trained v%(version)d") % {"version": model.version}
        if activated
        else _("trained v%(version)d, not activated: %(note)s")
        % {"version": model.version, "note": model.note}
    )
    return TrainingResult(target, True, reason, model, model.metrics)


def _prune_files(target: str) -> None:
    rows = ClassifierModel.objects.filter(target=target, is_active=False).order_by("-version")
    for row in rows[KEEP_MODEL_FILES:]:
        modelstore.delete_file(row)


def routing_train_models(
    *, targets: list[str] | None = None, force: bool = False, collect_closed: bool = True
) -> list[TrainingResult]:
    """Train a new version per target from the training examples (plus closed tickets' final
    classification), activate it and record holdout metrics.

    A target with fewer than two labels, or whose data did not change since the active
    version (unless `force`), is skipped. One run at a time (a PostgreSQL advisory lock); a
    second concurrent run returns at once, so running the nightly job twice is safe.
    """
    chosen = list(targets or Target.values)
    for target in chosen:
        if target not in Target.values:
            raise ValidationError({"target": [_("Unknown target %(t)s.") % {"t": target}]})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [TRAINING_LOCK_KEY])
        (acquired,) = cursor.fetchone()
    if not acquired:
        return [TrainingResult(t, False, _("another training run is in progress")) for t in chosen]
    try:
        if collect_closed:
            routing_collect_closed_examples()
        results = []
        for target in chosen:
            try:
                results.append(_train_target(target, force=force))
            except Exception as exc:  # one target's failure must not stop the others
                logger.exception("training the %s classifier failed", target)
                results.append(TrainingResult(target, False, _("failed: %(e)s") % {"e": exc}))
        return results
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [TRAINING_LOCK_KEY])


def routing_bootstrap_models(*, force: bool = False) -> list[TrainingResult]:
    """Give a fresh desk working models: load the built-in bilingual examples and train the
    targets that have no active model yet (all of them with `force`). For `seed_demo`."""
    routing_seed_examples()
    if force:
        targets = list(Target.values)
    else:
        active = set(
            ClassifierModel.objects.filter(is_active=True).values_list("target", flat=True)
        )
        targets = [t for t in Target.values if t not in active]
    if not targets:
        return []
    return routing_train_models(targets=targets, force=force)


@transaction.atomic
def routing_model_activate(*, model_id: int, actor: User | None) -> ClassifierModel:
    """Make a version the active one of its target (e.g. roll back to an earlier version).

    Guards: `configure_desk`; the version's file must load.
    """
    if actor is not None and not actor.has_perm("accounts.configure_desk"):
        raise PermissionDenied(_("You may not configure the classifier."))
    model = ClassifierModel.objects.select_for_update().get(pk=model_id)
    try:
        modelstore.load(model)
    except Exception as exc:
        raise ValidationError(
            {"file_path": [_("This version cannot be loaded: %(e)s") % {"e": exc}]}
        ) from exc
    ClassifierModel.objects.filter(target=model.target, is_active=True).exclude(pk=model.pk).update(
        is_active=False
    )
    if not model.is_active:
        model.is_active = True
        model.note = ""  # e.g. "not activated: ..." from the retraining guard
        model.save(update_fields=["is_active", "note"])
    return model
