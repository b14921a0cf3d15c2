"""Writes of the portal: the requester's satisfaction rating."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from tickets.choices import EventKind, Status
from tickets.events import event_record
from tickets.models import Ticket
from tickets.permissions import is_requester
from tickets.validation import clean_body

from .models import Rating


@transaction.atomic
def ticket_rate(*, ticket_id: int, actor: User, score: int, comment: str = "") -> Rating:
    """The requester rates a closed ticket once (1–5 and an optional comment).

    Guards: only the ticket's requester; only once it is closed; only once (a second rating,
    also a concurrent one, is refused). Logs `feedback.rated` on the ticket's timeline.
    """
    ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
    if not is_requester(ticket, actor):
        raise PermissionDenied(_("Only the requester can rate this ticket."))
    if ticket.status != Status.CLOSED:
        raise ValidationError({"score": [_("A ticket can be rated once it is closed.")]})
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": [_("Choose a score from 1 to 5.")]})
    comment = clean_body(comment, field="comment")
    if Rating.objects.filter(ticket_id=ticket.pk).exists():
        raise ValidationError({"score": [_("This ticket has already been rated.")]})
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                ticket=ticket, rated_by=actor, score=score, comment=comment
            )
    except IntegrityError as exc:
        raise ValidationError({"score": [_("This ticket has already been rated.")]}) from exc
    event_record(
        ticket=ticket,
        kind=EventKind.SURVEY,
        actor=actor,
        field="rating",
        new=score,
        message=comment,
        data={"rating_id": rating.pk},
    )
    return rating
