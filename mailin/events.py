"""Audit entries of the e-mail channel: admin actions on taken mail, bounces on tickets."""

from __future__ import annotations

from accounts.models import User
from tickets.choices import EventKind
from tickets.events import event_record
from tickets.models import Ticket

from .models import InboundMessage, MailEvent

RETRIED = "mail.retried"
DISCARDED = "mail.discarded"


def mail_event_record(
    *, message: InboundMessage, kind: str, actor: User | None, data: dict | None = None
) -> MailEvent:
    return MailEvent.objects.create(message=message, kind=kind, actor=actor, data=data or {})


def bounce_record(*, ticket: Ticket, addresses: list[str], message_pk: int) -> None:
    """An internal entry on the ticket the bounce came from (the requester never sees it)."""
    event_record(
        ticket=ticket,
        kind=EventKind.NOTE_ADDED,
        actor=None,
        message=", ".join(addresses),
        is_public=False,
        data={"mail": "bounce", "addresses": addresses, "inbound_message_id": message_pk},
    )
