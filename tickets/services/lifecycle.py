"""The ticket's way through the desk: classify, route, assign, dispatch, suspend, resolve,
verify, confirm, reopen, cancel, merge, incidents. Each service checks permission and guards,
runs the state machine's transition, logs and fires reactions, in one transaction."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Tier
from accounts.models import Team, User
from catalog.models import Category, InformationSystem, RequestType, SystemModule

from .. import permissions as perms
from ..choices import OPEN_STATUSES, EventKind, PendingReason, Priority, Status
from ..events import (
    event_record,
    event_record_changes,
    snapshot,
)
from ..exceptions import ConcurrentModification, IllegalTransition
from ..models import Ticket
from ..validation import clean_body
from .common import (
    _apply,
    _check_agent,
    _check_scales,
    _fire_changes,
    _lock,
    _mark_first_response,
    _require,
    _save,
    available_transitions,
    follow_as_actor,
)


@transaction.atomic
def ticket_classify(
    *,
    ticket_id: int,
    actor: User | None,
    request_type: RequestType | None = None,
    category: Category | None = None,
    system: InformationSystem | None = None,
    module: SystemModule | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    priority: str | None = None,
    confidence: float | None = None,
    needs_triage: bool | None = None,
    message: str = "",
    data: dict | None = None,
) -> Ticket:
    """Set what the ticket is (type, category, system and module, impact, urgency, priority).

    Used by the classifier (actor None, with a confidence) and by agents correcting it (the
    correction is logged and later teaches the classifier). Logs one entry per changed field.
    Guard: only an open ticket is classified — a resolved, closed or cancelled one keeps what
    it was (a forged request would otherwise re-type it and teach the classifier a wrong
    example); IllegalTransition names what is allowed.
    """
    ticket = _lock(ticket_id)
    if ticket.status not in OPEN_STATUSES:
        raise IllegalTransition(
            transition="classify",
            status=ticket.status,
            allowed=available_transitions(ticket, actor),
        )
    if actor is not None and not (
        perms.works_on(ticket, actor) or perms.can_dispatch(ticket, actor)
    ):
        raise PermissionDenied(_("You may not classify this ticket."))
    _check_scales(impact=impact, urgency=urgency, priority=priority)
    before = snapshot(ticket)
    fields: set[str] = set()
    if module is not None:
        if system is None:
            system = module.system if ticket.system_id != module.system_id else None
        elif module.system_id != system.pk:
            raise ValidationError({"module": [_("This module belongs to another system.")]})
    elif system is not None and ticket.module_id and ticket.module.system_id != system.pk:
        # Another system: the old system's module no longer describes the ticket.
        ticket.module = None
        fields.add("module")
    for name, value in (
        ("request_type", request_type),
        ("category", category),
        ("system", system),
        ("module", module),
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
    follow_as_actor(ticket, actor)
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
    follow_as_actor(ticket, actor)
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
    follow_as_actor(ticket, actor)
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


DEADLOCK_DETECTED = "40P01"


@transaction.atomic
def ticket_merge(*, ticket_id: int, actor: User, into: Ticket, reason: str = "") -> Ticket:
    """Merge a duplicate into another open ticket; the duplicate is cancelled."""
    if into.pk == ticket_id:
        raise ValidationError({"into": [_("A ticket cannot be merged into itself.")]})
    ticket = _lock(ticket_id)
    # The target is locked and re-read too: one closed or merged meanwhile is refused, so two
    # opposite merges at once cannot cancel both tickets into each other. Those two wait on
    # each other's row; PostgreSQL aborts one, which is then a conflict, not a server error.
    try:
        with transaction.atomic():
            into = _lock(into.pk)
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) == DEADLOCK_DETECTED:
            raise ConcurrentModification() from exc
        raise
    if into.status in (Status.CLOSED, Status.CANCELLED):
        raise ValidationError({"into": [_("Merge into an open ticket.")]})
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
