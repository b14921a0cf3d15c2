"""Public replies and internal notes on a ticket."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User

from .. import permissions as perms
from .. import reactions
from ..choices import EventKind, PendingReason, Status
from ..events import (
    event_record,
)
from ..models import Comment
from ..search import search_document_update
from ..validation import clean_body
from .common import _apply, _lock, _mark_first_response, _save, follow_as_actor


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
    # An agent who may see the ticket without working on it (the verifying expert, a follower)
    # may write an internal note — a question to the engineer, their analysis — but only those
    # who work on it answer the requester. The caller fetched the ticket through the actor's
    # visibility scope.
    note_by_agent = is_internal and actor.has_perm("accounts.handle_tickets")
    if not is_requester and not perms.works_on(ticket, actor) and not note_by_agent:
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
    search_document_update(ticket_id=ticket.pk)  # the reply's words are findable
    follow_as_actor(ticket, actor)
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
