"""What every ticket service shares: the row lock, the version check, running one transition
with its guards, log entry and reactions, and the small checks of input."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from accounts.models import User
from servicedesk import clock

from .. import permissions as perms
from .. import reactions
from ..choices import Impact, PendingReason, Priority, Urgency
from ..events import (
    event_record_changes,
    snapshot,
)
from ..exceptions import ConcurrentModification, IllegalTransition
from ..models import Ticket
from ..validation import clean_body


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
    extra = {"message_public": True} if message and message_is_public(name, ticket, actor) else {}
    event_record_changes(
        ticket=ticket,
        before=before,
        actor=actor,
        message=message,
        data={"transition": name, **extra, **(data or {})},
    )
    _fire_changes(ticket, before, actor)
    follow_as_actor(ticket, actor)
    return ticket


# Transitions whose typed text is addressed to the requester: the question of a ticket set
# waiting on them, the resolution they are asked to confirm, why their request was cancelled
# or merged. Everything else an agent types while moving a ticket (dispatch and escalation
# reasons, a failed verification, a priority change) is internal: the requester's timeline
# and API show the change without its text.
_PUBLIC_MESSAGE_TRANSITIONS = {"resolve", "cancel", "merge", "resolve_with_incident"}


def message_is_public(transition: str, ticket: Ticket, actor: User | None) -> bool:
    if actor is not None and actor.pk == ticket.requester_id:
        return True  # the requester's own words (confirm, reject, withdraw, reopen)
    if transition == "suspend":
        return ticket.pending_reason == PendingReason.REQUESTER
    return transition in _PUBLIC_MESSAGE_TRANSITIONS


def follow_as_actor(ticket: Ticket, actor: User | None) -> None:
    """An agent who acts on a ticket follows it from then on (one idempotent INSERT); the
    requester and the desk itself do not."""
    if actor is None or actor.pk == ticket.requester_id:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_ticketfollower (ticket_id, user_id, created_at) "
            "VALUES (%s, %s, now()) ON CONFLICT (ticket_id, user_id) DO NOTHING",
            [ticket.pk, actor.pk],
        )


def _fire_changes(ticket: Ticket, before: dict[str, Any], actor: User | None) -> None:
    """Fire the reactions of what changed (see `change_events`)."""
    for event, payload in change_events(ticket, before, actor):
        reactions.fire(event, **payload)


def change_events(
    ticket: Ticket, before: dict[str, Any], actor: User | None
) -> list[tuple[str, dict]]:
    """The events of what changed, in the order they fire. Every payload names the actor and
    `at`, the ticket's new version (updated_at): a reaction's own dedupe key for this one
    change."""
    changed_at = ticket.updated_at.isoformat() if ticket.updated_at else ""
    actor_id = actor.pk if actor else None
    events = []
    if before["status"] != ticket.status:
        events.append(
            (
                reactions.STATUS_CHANGED,
                {
                    "ticket_id": ticket.pk,
                    "old": before["status"],
                    "new": ticket.status,
                    "actor_id": actor_id,
                    "at": changed_at,
                },
            )
        )
    if (before["team_id"], before["tier"], before["assignee_id"]) != (
        ticket.team_id,
        ticket.tier,
        ticket.assignee_id,
    ):
        events.append(
            (
                reactions.ASSIGNMENT_CHANGED,
                {
                    "ticket_id": ticket.pk,
                    "old_team_id": before["team_id"],
                    "new_team_id": ticket.team_id,
                    "old_tier": before["tier"],
                    "new_tier": ticket.tier,
                    "old_assignee_id": before["assignee_id"],
                    "new_assignee_id": ticket.assignee_id,
                    "actor_id": actor_id,
                    "at": changed_at,
                },
            )
        )
    if before["priority"] != ticket.priority:
        events.append(
            (
                reactions.PRIORITY_CHANGED,
                {
                    "ticket_id": ticket.pk,
                    "old": before["priority"],
                    "new": ticket.priority,
                    "actor_id": actor_id,
                    "at": changed_at,
                },
            )
        )
    return events


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
        # By the desk's clock, as the SLA's: a web process whose clock was stepped back would
        # otherwise record a response before the clock it answers started.
        ticket.first_response_at = clock.now()
        fields.add("first_response_at")
