"""Reads of the e-mail channel, scoped by the viewer where a person asks."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from tickets.models import Ticket

from .choices import Outcome
from .models import FlaggedAddress, InboundMessage, Mailbox


def mailbox_list(*, viewer: User) -> QuerySet[Mailbox]:
    """Mailboxes with their counters and state: administrators of the desk only."""
    if not viewer.has_perm("accounts.configure_desk"):
        return Mailbox.objects.none()
    return Mailbox.objects.select_related("default_request_type", "default_unit").order_by("name")


def quarantine_list(*, viewer: User) -> QuerySet[InboundMessage]:
    if not viewer.has_perm("accounts.configure_desk"):
        return InboundMessage.objects.none()
    return InboundMessage.objects.filter(outcome=Outcome.QUARANTINED).select_related("mailbox")


def ticket_mailbox(ticket: Ticket) -> Mailbox | None:
    """The mailbox the ticket came in through (its first message), else the first active one."""
    first = (
        InboundMessage.objects.filter(ticket=ticket, mailbox__isnull=False)
        .select_related("mailbox")
        .order_by("id")
        .first()
    )
    if first is not None:
        return first.mailbox
    return Mailbox.objects.filter(is_active=True).order_by("pk").first()


def outbound_addresses(ticket: Ticket) -> tuple[str, str] | None:
    """(From, Reply-To) for desk mail about this ticket, per its mailbox; None without one.
    For the notification mail (issue #11): replies then come back to the polled mailbox."""
    mailbox = ticket_mailbox(ticket)
    if mailbox is None:
        return None
    sender = mailbox.outgoing_from
    if mailbox.from_name:
        from email.headerregistry import Address

        from .parse import clean_line

        local, _, domain = sender.partition("@")
        sender = str(
            Address(display_name=clean_line(mailbox.from_name), username=local, domain=domain)
        )
    return sender, mailbox.outgoing_reply_to


def address_is_flagged(address: str) -> bool:
    """Mail to this address bounced before."""
    return FlaggedAddress.objects.filter(address=address.strip().lower()).exists()


def ticket_source(*, viewer: User, ticket: Ticket) -> QuerySet[InboundMessage]:
    """The messages behind a ticket (its source for audit): agents working on it only."""
    from tickets import permissions

    if not permissions.works_on(ticket, viewer):
        return InboundMessage.objects.none()
    return InboundMessage.objects.filter(ticket=ticket).order_by("id")
