"""Every write to a ticket goes through these services.

Each service checks permission and guards first, then changes the ticket (through the state
machine where the status moves), then writes the operation log, all in one transaction; side
effects (reactions of other apps, notifications) run after commit via `tickets.reactions`.
`actor=None` means the desk itself (routing, the SLA engine, integrations' system user).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from accounts.choices import Tier
from accounts.models import Team, User
from catalog.models import Category, InformationSystem, RequestType, SystemModule

from . import permissions as perms
from . import reactions
from .choices import Channel, EventKind, Impact, PendingReason, Priority, Status, Urgency
from .events import event_record, event_record_changes, event_rows_for_changes, snapshot
from .exceptions import ConcurrentModification, IllegalTransition
from .models import Attachment, Comment, Ticket, TicketEvent
from .validation import clean_body, clean_title

# --- helpers --------------------------------------------------------------------------------


def _next_number(created_at) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('tickets_ticket_number_seq')")
        (value,) = cursor.fetchone()
    prefix = settings.SERVICEDESK["TICKET_NUMBER_PREFIX"]
    return f"{prefix}-{timezone.localtime(created_at).year}-{value:06d}"


def _lock(ticket_id: int) -> Ticket:
    """Load the ticket for update: concurrent writers queue here instead of racing."""
    return Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)


def available_transitions(ticket: Ticket, user: User | None) -> list[str]:
    """The transitions `user` may make now, read from the state machine."""
    if user is None:
        return [t.name for t in ticket.get_available_status_transitions()]
    return [t.name for t in ticket.get_available_user_status_transitions(user)]


def ticket_etag(ticket: Ticket) -> str:
    """The ticket's version as an HTTP entity tag: it changes with every save of the ticket."""
    return f'"{ticket.pk}-{int(ticket.updated_at.timestamp() * 1_000_000)}"'


def ticket_check_unchanged(*, ticket_id: int, etag: str) -> Ticket:
    """Lock the ticket and refuse (ConcurrentModification) if it changed since the client read
    it (`If-Match`). Call inside the transaction of the change that depends on it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket_check_unchanged must run inside a transaction")
    ticket = _lock(ticket_id)
    if etag.strip() not in ("*", ticket_etag(ticket), f"W/{ticket_etag(ticket)}"):
        raise ConcurrentModification()
    return ticket


def _save(ticket: Ticket, fields: Iterable[str]) -> None:
    try:
        ticket.save(update_fields=sorted({*fields, "updated_at"}))
    except ConcurrentTransition as exc:
        raise ConcurrentModification() from exc


def _apply(
    ticket: Ticket,
    actor: User | None,
    name: str,
    *,
    fields: Iterable[str],
    message: str = "",
    data: dict | None = None,
    **kwargs: Any,
) -> Ticket:
    """Run one transition with its guards, save, log and fire reactions. Caller holds the lock.

    Raises IllegalTransition (naming the allowed ones) when the state machine says no.
    """
    method = getattr(ticket, name)
    if not can_proceed(method) or (actor is not None and not has_transition_perm(method, actor)):
        raise IllegalTransition(
            transition=name, status=ticket.status, allowed=available_transitions(ticket, actor)
        )
    before = snapshot(ticket)
    method(**kwargs)
    _save(ticket, {"status", *fields})
    event_record_changes(
        ticket=ticket,
        before=before,
        actor=actor,
        message=message,
        data={"transition": name, **(data or {})},
    )
    _fire_changes(ticket, before, actor)
    return ticket


def _fire_changes(ticket: Ticket, before: dict[str, Any], actor: User | None) -> None:
    if before["status"] != ticket.status:
        reactions.fire(
            reactions.STATUS_CHANGED,
            ticket_id=ticket.pk,
            old=before["status"],
            new=ticket.status,
            actor_id=actor.pk if actor else None,
        )
    if (before["team_id"], before["tier"], before["assignee_id"]) != (
        ticket.team_id,
        ticket.tier,
        ticket.assignee_id,
    ):
        reactions.fire(
            reactions.ASSIGNMENT_CHANGED,
            ticket_id=ticket.pk,
            old_team_id=before["team_id"],
            new_team_id=ticket.team_id,
            old_tier=before["tier"],
            new_tier=ticket.tier,
            old_assignee_id=before["assignee_id"],
            new_assignee_id=ticket.assignee_id,
        )
    if before["priority"] != ticket.priority:
        reactions.fire(
            reactions.PRIORITY_CHANGED,
            ticket_id=ticket.pk,
            old=before["priority"],
            new=ticket.priority,
        )


def _require(value: str, *, field: str, label: str) -> str:
    value = clean_body(value, field=field)
    if not value:
        raise ValidationError({field: [_("%(what)s is required.") % {"what": label}]})
    return value


def _check_scales(
    *, impact: int | None = None, urgency: int | None = None, priority: str | None = None
) -> None:
    """Impact, urgency and priority only take their scale's values (None: not given)."""
    errors = {}
    if impact is not None and impact not in Impact.values:
        errors["impact"] = [_("Unknown impact.")]
    if urgency is not None and urgency not in Urgency.values:
        errors["urgency"] = [_("Unknown urgency.")]
    if priority is not None and priority not in Priority.values:
        errors["priority"] = [_("Unknown priority.")]
    if errors:
        raise ValidationError(errors)


def _check_agent(ticket: Ticket, actor: User | None) -> None:
    if actor is not None and not perms.works_on(ticket, actor):
        raise PermissionDenied(_("You do not work on this ticket."))


def _mark_first_response(ticket: Ticket, actor: User | None, fields: set[str]) -> None:
    """The first time someone at the desk acts for the requester counts as the response."""
    if ticket.first_response_at is None and actor is not None and actor.pk != ticket.requester_id:
        ticket.first_response_at = timezone.now()
        fields.add("first_response_at")


# --- intake ---------------------------------------------------------------------------------


def ticket_create(
    *,
    requester: User,
    title: str,
    description: str = "",
    channel: str = Channel.PORTAL,
    created_by: User | None = None,
    system: InformationSystem | None = None,
    module: SystemModule | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    request_type: RequestType | None = None,
    category: Category | None = None,
    external_source: str = "",
    external_ref: str = "",
) -> tuple[Ticket, bool]:
    """Open a ticket from any channel; return (ticket, created).

    Guards: the person logging it is the requester (with `submit_request`), an agent with
    `log_on_behalf`, or the desk itself (`created_by=None`, integrations); title 1–200
    characters; description up to 50,000. With an external reference (an Idempotency-Key, an
    alert fingerprint, a Message-ID) a second delivery returns the first ticket, also when both
    arrive at once. Side effects after commit: TICKET_CREATED reactions (classification,
    routing, SLA timers).
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Unknown channel.")]})
    if created_by is not None and created_by.pk != requester.pk:
        if not created_by.has_perm("accounts.log_on_behalf"):
            raise PermissionDenied(_("You may not log requests on behalf of others."))
    elif created_by is not None and not (
        created_by.has_perm("accounts.submit_request")
        or created_by.has_perm("accounts.log_on_behalf")
    ):
        raise PermissionDenied(_("You may not submit requests."))
    fields = {"title": clean_title(title), "description": clean_body(description)}
    _check_scales(impact=impact, urgency=urgency)
    if module is not None and system is not None and module.system_id != system.pk:
        raise ValidationError({"module": [_("This module belongs to another system.")]})
    if module is not None and system is None:
        system = module.system
    external_ref = (external_ref or "").strip()[:255]
    if external_ref:
        existing = Ticket.objects.filter(
            external_source=external_source, external_ref=external_ref
        ).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            ticket = _insert_ticket(
                requester=requester,
                created_by=created_by,
                channel=channel,
                system=system,
                module=module,
                impact=impact,
                urgency=urgency,
                request_type=request_type,
                category=category,
                external_source=external_source,
                external_ref=external_ref,
                **fields,
            )
    except IntegrityError:
        if not external_ref:
            raise
        # The same key arrived twice at once: the other delivery won; return its ticket.
        return Ticket.objects.get(external_source=external_source, external_ref=external_ref), False
    return ticket, True


def _insert_ticket(*, requester: User, created_by: User | None, **values: Any) -> Ticket:
    now = timezone.now()
    unit = requester.unit
    values = {k: v for k, v in values.items() if v is not None}
    ticket = Ticket(
        requester=requester,
        created_by=created_by or None,
        unit=unit,
        unit_path=unit.path if unit else "",
        created_at=now,
        number=_next_number(now),
        intake_due_at=now if reactions.deferred(reactions.TICKET_CREATED) else None,
        **values,
    )
    ticket.save(force_insert=True)
    event_record(
        ticket=ticket,
        kind=EventKind.CREATED,
        actor=created_by,
        new=ticket.number,
        data={"channel": ticket.channel},
    )
    reactions.fire(reactions.TICKET_CREATED, ticket_id=ticket.pk)
    return ticket


def external_ref_for_key(*, client: User, key: str) -> tuple[str, str]:
    """An API client's Idempotency-Key, scoped to that client so keys never collide."""
    return f"api:{client.pk}", hashlib.sha256(key.encode("utf-8")).hexdigest()


# --- classification and routing -------------------------------------------------------------


@transaction.atomic
def ticket_classify(
    *,
    ticket_id: int,
    actor: User | None,
    request_type: RequestType | None = None,
    category: Category | None = None,
    system: InformationSystem | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    priority: str | None = None,
    confidence: float | None = None,
    needs_triage: bool | None = None,
    message: str = "",
    data: dict | None = None,
) -> Ticket:
    """Set what the ticket is (type, category, system, impact, urgency, priority).

    Used by the classifier (actor None, with a confidence) and by agents correcting it (the
    correction is logged and later teaches the classifier). Logs one entry per changed field.
    """
    ticket = _lock(ticket_id)
    if actor is not None and not (
        perms.works_on(ticket, actor) or perms.can_dispatch(ticket, actor)
    ):
        raise PermissionDenied(_("You may not classify this ticket."))
    _check_scales(impact=impact, urgency=urgency, priority=priority)
    before = snapshot(ticket)
    fields: set[str] = set()
    for name, value in (
        ("request_type", request_type),
        ("category", category),
        ("system", system),
        ("impact", impact),
        ("urgency", urgency),
        ("priority", priority),
        ("needs_triage", needs_triage),
        ("classification_confidence", confidence),
    ):
        if value is not None:
            setattr(ticket, name, value)
            fields.add(name)
    _save(ticket, fields)
    event_record_changes(
        ticket=ticket,
        before=before,
        actor=actor,
        message=message,
        data={"confidence": confidence, **(data or {})},
    )
    _fire_changes(ticket, before, actor)
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket_id: int, actor: User, priority: str, reason: str) -> Ticket:
    """An agent overrides the computed priority; the reason is required and logged."""
    ticket = _lock(ticket_id)
    if not actor.has_perm("accounts.override_priority") or not (
        perms.works_on(ticket, actor) or actor.has_perm("accounts.view_reports")
    ):
        raise PermissionDenied(_("You may not change the priority of this ticket."))
    if priority not in Priority.values:
        raise ValidationError({"priority": [_("Unknown priority.")]})
    reason = _require(reason, field="reason", label=_("A reason"))
    before = snapshot(ticket)
    ticket.priority = priority
    _save(ticket, {"priority"})
    event_record_changes(
        ticket=ticket, before=before, actor=actor, message=reason, data={"override": True}
    )
    _fire_changes(ticket, before, actor)
    return ticket


@transaction.atomic
def ticket_route(
    *,
    ticket_id: int,
    actor: User | None,
    tier: str,
    team: Team,
    reason: str = "",
    data: dict | None = None,
) -> Ticket:
    """Put a new ticket in a team's queue at a tier (automatic routing or manual triage)."""
    if tier not in Tier.values:
        raise ValidationError({"tier": [_("Unknown tier.")]})
    ticket = _lock(ticket_id)
    return _apply(
        ticket,
        actor,
        "route",
        fields={"tier", "team", "needs_triage"},
        message=reason,
        data=data,
        tier=tier,
        team=team,
    )


@transaction.atomic
def ticket_send_to_triage(*, ticket_id: int, reason: str, data: dict | None = None) -> Ticket:
    """Put a new ticket in the manual triage queue (人工兜底), saying why."""
    ticket = _lock(ticket_id)
    if not ticket.needs_triage:
        ticket.needs_triage = True
        _save(ticket, {"needs_triage"})
    event_record(
        ticket=ticket, kind=EventKind.TRIAGE, actor=None, message=reason, is_public=False, data=data
    )
    return ticket


# --- working a ticket -----------------------------------------------------------------------


@transaction.atomic
def ticket_assign(
    *,
    ticket_id: int,
    actor: User | None,
    assignee: User,
    reason: str = "",
    from_queue_only: bool = False,
) -> Ticket:
    """Give the ticket to `assignee` (who must be in its team); taking it is assigning oneself.

    A queued ticket starts work; an owned one just changes hands. `from_queue_only` refuses
    (IllegalTransition) unless the ticket is still queued: two agents taking one ticket at once
    then cannot both win, the second one is told it is gone.
    """
    ticket = _lock(ticket_id)
    if from_queue_only and ticket.status != Status.QUEUED:
        raise IllegalTransition(
            transition="take", status=ticket.status, allowed=available_transitions(ticket, actor)
        )
    if (
        ticket.team_id is not None
        and not assignee.memberships.filter(team_id=ticket.team_id).exists()
    ):
        raise ValidationError(
            {"assignee": [_("%(user)s is not in the ticket's team.") % {"user": assignee}]}
        )
    if not assignee.has_perm("accounts.handle_tickets"):
        raise ValidationError({"assignee": [_("%(user)s is not an agent.") % {"user": assignee}]})
    if ticket.status == Status.QUEUED:
        if actor is not None and actor.pk != assignee.pk and not perms.can_dispatch(ticket, actor):
            _check_agent(ticket, actor)
        fields = {"assignee"}
        _mark_first_response(ticket, actor, fields)
        return _apply(ticket, actor, "start_work", fields=fields, message=reason, assignee=assignee)
    if ticket.status not in (Status.IN_PROGRESS, Status.PENDING):
        raise IllegalTransition(
            transition="assign", status=ticket.status, allowed=available_transitions(ticket, actor)
        )
    _check_agent(ticket, actor)
    before = snapshot(ticket)
    ticket.assignee = assignee
    _save(ticket, {"assignee"})
    event_record_changes(ticket=ticket, before=before, actor=actor, message=reason)
    _fire_changes(ticket, before, actor)
    return ticket


def ticket_take(*, ticket_id: int, actor: User, from_queue_only: bool = False) -> Ticket:
    return ticket_assign(
        ticket_id=ticket_id, actor=actor, assignee=actor, from_queue_only=from_queue_only
    )


@transaction.atomic
def ticket_dispatch(
    *,
    ticket_id: int,
    actor: User | None,
    team: Team,
    reason: str,
    escalation: bool = False,
    data: dict | None = None,
) -> Ticket:
    """Move the ticket to another team (and that team's tier), with a reason.

    `escalation=True` is the functional escalation (also from pending); otherwise a dispatch
    (派单), e.g. the middle office to the back-office team that owns the system.
    """
    ticket = _lock(ticket_id)
    if actor is not None:
        reason = _require(reason, field="reason", label=_("A reason"))
    if team.pk == ticket.team_id and ticket.status == Status.QUEUED:
        raise ValidationError({"team": [_("The ticket is already queued for this team.")]})
    name = "escalate" if escalation else "dispatch"
    return _apply(
        ticket,
        actor,
        name,
        fields={"tier", "team", "assignee", "pending_reason"},
        message=reason,
        data=data,
        tier=team.tier,
        team=team,
    )


@dataclass(frozen=True)
class EscalationMove:
    """One functional escalation the desk makes by itself: a ticket to the next team."""

    ticket_id: int
    team: Team
    reason: str
    data: dict = field(default_factory=dict)


@transaction.atomic
def ticket_escalate_many(*, moves: list[EscalationMove]) -> dict[int, str]:
    """The desk's own functional escalation of many tickets at once (the SLA sweep's breaches).

    Per ticket the same rules as `ticket_dispatch(escalation=True, actor=None)`: the state
    machine must allow `escalate`, and a ticket already queued for the target team is left.
    In bulk: the tickets are locked in id order in one query (so two sweeps cannot deadlock),
    moves run through the state machine in memory in the given order, then one UPDATE per
    target team, the log in one INSERT, and the reactions after commit. Returns
    {ticket_id: why} for the moves that were refused; the others happened.
    """
    ids = sorted({move.ticket_id for move in moves})
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
    }
    refused: dict[int, str] = {}
    first_snapshot: dict[int, dict[str, Any]] = {}
    rows = []
    for move in moves:
        ticket = tickets.get(move.ticket_id)
        if ticket is None:
            refused[move.ticket_id] = _("The ticket no longer exists.")
            continue
        if move.team.pk == ticket.team_id and ticket.status == Status.QUEUED:
            refused[ticket.pk] = _("The ticket is already queued for this team.")
            continue
        if not can_proceed(ticket.escalate):
            refused[ticket.pk] = str(
                IllegalTransition(transition="escalate", status=ticket.status, allowed=[])
            )
            continue
        before = snapshot(ticket)
        first_snapshot.setdefault(ticket.pk, before)
        ticket.escalate(tier=move.team.tier, team=move.team)
        rows += event_rows_for_changes(
            ticket=ticket,
            before=before,
            actor=None,
            message=move.reason,
            data={"transition": "escalate", **move.data},
        )
    by_team: dict[int, list[int]] = defaultdict(list)
    for ticket_id in first_snapshot:
        by_team[tickets[ticket_id].team_id].append(ticket_id)
    now = timezone.now()
    for team_id, ticket_ids in by_team.items():
        Ticket.objects.filter(pk__in=ticket_ids).update(
            status=Status.QUEUED,
            tier=tickets[ticket_ids[0]].tier,
            team_id=team_id,
            assignee=None,
            pending_reason="",
            updated_at=now,
        )
    TicketEvent.objects.bulk_create(rows)
    for ticket_id, before in first_snapshot.items():
        _fire_changes(tickets[ticket_id], before, None)
    return refused


@transaction.atomic
def ticket_suspend(*, ticket_id: int, actor: User, reason: str, note: str = "") -> Ticket:
    """Pending on someone outside the desk; waiting on the requester pauses the SLA clocks."""
    if reason not in PendingReason.values:
        raise ValidationError({"reason": [_("Choose who the ticket is waiting on.")]})
    ticket = _lock(ticket_id)
    fields = {"pending_reason"}
    _mark_first_response(ticket, actor, fields)
    return _apply(ticket, actor, "suspend", fields=fields, message=clean_body(note), reason=reason)


@transaction.atomic
def ticket_resume(*, ticket_id: int, actor: User | None, note: str = "") -> Ticket:
    ticket = _lock(ticket_id)
    return _apply(ticket, actor, "resume", fields={"pending_reason"}, message=clean_body(note))


@transaction.atomic
def ticket_resolve(*, ticket_id: int, actor: User, resolution: str) -> Ticket:
    """Resolve with a resolution note (required). From the back office this submits the fix
    for the middle office's verification instead: the requester is told only after it."""
    resolution = _require(resolution, field="resolution", label=_("A resolution note"))
    ticket = _lock(ticket_id)
    fields = {"resolution", "resolved_at"}
    _mark_first_response(ticket, actor, fields)
    name = "submit_fix" if ticket.tier == Tier.BACK else "resolve"
    return _apply(ticket, actor, name, fields=fields, message=resolution, resolution=resolution)


@transaction.atomic
def ticket_verify(*, ticket_id: int, actor: User, passed: bool, note: str = "") -> Ticket:
    """A middle-office expert verifies a back-office fix: pass → resolved (the requester is
    asked to confirm); fail → back to the back office, the reason required."""
    ticket = _lock(ticket_id)
    if passed:
        return _apply(
            ticket,
            actor,
            "verify_pass",
            fields={"resolved_at"},
            message=clean_body(note, field="note"),
        )
    note = _require(note, field="note", label=_("The reason the fix failed"))
    return _apply(ticket, actor, "verify_fail", fields=set(), message=note)


@transaction.atomic
def ticket_confirm(*, ticket_id: int, actor: User, note: str = "") -> Ticket:
    """The requester (or an agent on their behalf) confirms the fix: closed."""
    ticket = _lock(ticket_id)
    return _apply(
        ticket, actor, "confirm", fields={"closed_at"}, message=clean_body(note, field="note")
    )


@transaction.atomic
def ticket_reject(*, ticket_id: int, actor: User, reason: str) -> Ticket:
    """The requester says it is not fixed: reopened to its owner, the reason required."""
    reason = _require(reason, field="reason", label=_("A reason"))
    ticket = _lock(ticket_id)
    return _apply(ticket, actor, "reject", fields={"reopen_count", "resolved_at"}, message=reason)


@transaction.atomic
def ticket_auto_close(*, ticket_id: int) -> Ticket | None:
    """Close a resolved ticket the requester did not answer. Safe to repeat: a ticket that is
    no longer resolved, or not yet due, is left alone (returns None)."""
    ticket = _lock(ticket_id)
    days = settings.SERVICEDESK["AUTO_CLOSE_RESOLVED_AFTER_DAYS"]
    if (
        ticket.status != Status.RESOLVED
        or ticket.resolved_at is None
        or (timezone.now() - ticket.resolved_at < timedelta(days=days))
    ):
        return None
    return _apply(
        ticket,
        None,
        "auto_close",
        fields={"closed_at"},
        message=_("Closed automatically: no answer within %(days)d days.") % {"days": days},
    )


@transaction.atomic
def ticket_reopen(*, ticket_id: int, actor: User, reason: str) -> Ticket:
    reason = _require(reason, field="reason", label=_("A reason"))
    ticket = _lock(ticket_id)
    return _apply(
        ticket, actor, "reopen", fields={"reopen_count", "resolved_at", "closed_at"}, message=reason
    )


@transaction.atomic
def ticket_cancel(*, ticket_id: int, actor: User, reason: str = "") -> Ticket:
    """Withdrawn by the requester, or rejected as invalid by an agent (reason required)."""
    ticket = _lock(ticket_id)
    if not perms.is_requester(ticket, actor):
        reason = _require(reason, field="reason", label=_("A reason"))
    return _apply(ticket, actor, "cancel", fields={"closed_at"}, message=clean_body(reason))


@transaction.atomic
def ticket_merge(*, ticket_id: int, actor: User, into: Ticket, reason: str = "") -> Ticket:
    """Merge a duplicate into another open ticket; the duplicate is cancelled."""
    if into.pk == ticket_id:
        raise ValidationError({"into": [_("A ticket cannot be merged into itself.")]})
    if into.status in (Status.CLOSED, Status.CANCELLED):
        raise ValidationError({"into": [_("Merge into an open ticket.")]})
    ticket = _lock(ticket_id)
    result = _apply(
        ticket,
        actor,
        "merge",
        fields={"merged_into", "closed_at"},
        message=clean_body(reason),
        data={"into": into.number},
        into=into,
    )
    event_record(
        ticket=into,
        kind=EventKind.MERGED,
        actor=actor,
        new=ticket.number,
        message=_("%(number)s was merged into this ticket.") % {"number": ticket.number},
    )
    return result


@transaction.atomic
def ticket_link_incident(*, ticket_id: int, actor: User | None, incident: Ticket) -> Ticket:
    """Link a user's ticket to the fault incident it is a symptom of."""
    if incident.pk == ticket_id:
        raise ValidationError({"incident": [_("A ticket cannot be its own incident.")]})
    ticket = _lock(ticket_id)
    _check_agent(ticket, actor)
    ticket.incident = incident
    _save(ticket, {"incident"})
    event_record(
        ticket=ticket,
        kind=EventKind.LINKED,
        actor=actor,
        new=incident.number,
        message=incident.title,
    )
    return ticket


@transaction.atomic
def ticket_resolve_linked(*, incident_id: int, resolution: str) -> list[int]:
    """Resolve every open ticket linked to a fixed incident, together (skips those done)."""
    ids = list(
        Ticket.objects.filter(incident_id=incident_id)
        .exclude(status__in=[Status.RESOLVED, Status.CLOSED, Status.CANCELLED])
        .values_list("pk", flat=True)
    )
    for ticket_id in ids:
        ticket = _lock(ticket_id)
        _apply(
            ticket,
            None,
            "resolve_with_incident",
            fields={"resolution", "resolved_at"},
            message=resolution,
            resolution=resolution,
        )
    return ids


# --- conversation ---------------------------------------------------------------------------


@transaction.atomic
def comment_add(*, ticket_id: int, actor: User, body: str, is_internal: bool = False) -> Comment:
    """A public reply or an internal note. Requesters only write public replies; an agent's
    first public reply is the first response; a requester's reply to a ticket pending on them
    resumes it."""
    body = clean_body(body, field="body", required=True)
    ticket = _lock(ticket_id)
    is_requester = perms.is_requester(ticket, actor)
    if is_requester and is_internal:
        raise PermissionDenied(_("Requesters cannot write internal notes."))
    if not is_requester and not perms.works_on(ticket, actor):
        raise PermissionDenied(_("You do not work on this ticket."))
    comment = Comment.objects.create(
        ticket=ticket, author=actor, body=body, is_internal=is_internal
    )
    kind = EventKind.NOTE_ADDED if is_internal else EventKind.COMMENTED
    event_record(
        ticket=ticket,
        kind=kind,
        actor=actor,
        message=body,
        is_public=not is_internal,
        data={"comment_id": comment.pk},
    )
    if not is_internal:
        fields: set[str] = set()
        _mark_first_response(ticket, actor, fields)
        if fields:
            _save(ticket, fields)
        reactions.fire(
            reactions.PUBLIC_REPLY_ADDED,
            ticket_id=ticket.pk,
            comment_id=comment.pk,
            by_requester=is_requester,
        )
        if (
            is_requester
            and ticket.status == Status.PENDING
            and ticket.pending_reason == PendingReason.REQUESTER
        ):
            _apply(
                ticket,
                actor,
                "resume",
                fields={"pending_reason"},
                message=_("The requester added information."),
            )
    return comment


# --- attachments ----------------------------------------------------------------------------

# The allow-list: extension -> the content type the file is stored and served with. What the
# client claims is ignored; SVG and HTML are left out because a browser would run their scripts.
ATTACHMENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
    "json": "application/json",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
}
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# The first bytes each binary type must start with, so a renamed executable is refused.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "bmp": (b"BM",),
    "pdf": (b"%PDF-",),
    "doc": _OLE,
    "xls": _OLE,
    "ppt": _OLE,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "zip": _ZIP,
}
ATTACHMENT_NAME_MAX_LENGTH = 120


def attachment_clean_filename(name: str | None) -> str:
    """A safe display name: no directories, no control characters, only word characters,
    dots and dashes, no leading dot, at most 120 characters with the extension kept."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    try:
        name = get_valid_filename(name)
    except SuspiciousFileOperation:
        name = ""
    name = name.lstrip(".")
    if len(name) > ATTACHMENT_NAME_MAX_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        keep = ATTACHMENT_NAME_MAX_LENGTH - len(ext) - len(dot)
        name = f"{(stem if dot else name)[:keep]}{dot}{ext}"
    return name or "attachment"


def _attachment_type(filename: str, upload: UploadedFile) -> str:
    """The stored content type, from the allow-list; refuses contents that do not match."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    content_type = ATTACHMENT_TYPES.get(extension)
    if content_type is None:
        raise ValidationError(
            {
                "file": [
                    _("Files of this type are not accepted. Allowed: %(types)s.")
                    % {"types": ", ".join(sorted(ATTACHMENT_TYPES))}
                ]
            }
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    signatures = _SIGNATURES.get(extension)
    if signatures is not None:
        matches = any(head.startswith(s) for s in signatures)
        if extension == "webp":
            matches = matches and head[8:12] == b"WEBP"
    else:
        matches = b"\x00" not in head  # text: a NUL byte means it is binary
    if not matches:
        raise ValidationError(
            {
                "file": [
                    _("The contents of the file do not match its type (.%(ext)s).")
                    % {"ext": extension}
                ]
            }
        )
    return content_type


def attachment_add(
    *,
    ticket_id: int,
    actor: User,
    upload: UploadedFile,
    is_internal: bool = False,
    comment: Comment | None = None,
) -> Attachment:
    """Attach a file to a ticket.

    Guards: the requester (public files only) or an agent working the ticket; the size at most
    `settings.ATTACHMENT_MAX_BYTES` and not empty; the type on the allow-list and the contents
    matching it. The file is stored under MEDIA_ROOT (outside the static root) with a random
    name; the sanitised original name is metadata only. Logs `ticket.attachment_added`
    (internal files are not on the requester's timeline). If the database part fails, the file
    written is removed again.
    """
    if upload is None:
        raise ValidationError({"file": [_("Choose a file.")]})
    filename = attachment_clean_filename(upload.name)
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    if upload.size > limit:
        raise ValidationError(
            {
                "file": [
                    _("The file is too large: at most %(max)d bytes (this has %(size)d).")
                    % {"max": limit, "size": upload.size}
                ]
            }
        )
    content_type = _attachment_type(filename, upload)
    attachment = Attachment(
        uploaded_by=actor,
        storage_key=secrets.token_hex(16),
        filename=filename,
        content_type=content_type,
        size=upload.size,
        is_internal=is_internal,
        comment=comment,
    )
    try:
        with transaction.atomic():
            ticket = _lock(ticket_id)
            is_requester = perms.is_requester(ticket, actor)
            if is_requester and is_internal and not perms.works_on(ticket, actor):
                raise PermissionDenied(_("Requesters cannot add internal attachments."))
            if not is_requester and not perms.works_on(ticket, actor):
                raise PermissionDenied(_("You do not work on this ticket."))
            if comment is not None and comment.ticket_id != ticket.pk:
                raise ValidationError({"comment": [_("The comment is on another ticket.")]})
            attachment.ticket = ticket
            attachment.file.save(attachment.storage_key, upload, save=False)
            attachment.save(force_insert=True)
            event_record(
                ticket=ticket,
                kind=EventKind.ATTACHMENT_ADDED,
                actor=actor,
                new=filename,
                message=filename,
                is_public=not is_internal,
                data={
                    "attachment_id": attachment.pk,
                    "size": attachment.size,
                    "content_type": content_type,
                },
            )
    except BaseException:
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment
