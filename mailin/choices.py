"""The choice sets of the e-mail channel."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS (port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143)")
    NONE = "none", _("None (loopback or a trusted network only)")


class UnknownSender(models.TextChoices):
    """What mail from an address that belongs to no one at the desk does."""

    CREATE_REQUESTER = "create", _("Create a requester for the address")
    REFUSE = "refuse", _("Refuse (record it, no ticket)")


class ForeignReply(models.TextChoices):
    """What a reply to a ticket from someone who may not reply to it does."""

    NEW_TICKET = "new_ticket", _("Open a new ticket for the sender")
    QUARANTINE = "quarantine", _("Put it in quarantine")


class Outcome(models.TextChoices):
    """What became of one message taken from a mailbox."""

    TICKET_CREATED = "ticket_created", _("New ticket")
    REPLY_ADDED = "reply_added", _("Reply added to a ticket")
    IGNORED_AUTO = "ignored_auto", _("Ignored: automatic reply or bulk mail")
    IGNORED_ECHO = "ignored_echo", _("Ignored: the desk's own message came back")
    BOUNCE = "bounce", _("Bounce recorded")
    RATE_LIMITED = "rate_limited", _("Ignored: too many new tickets from this sender")
    REFUSED = "refused", _("Refused: unknown sender")
    QUARANTINED = "quarantined", _("In quarantine")
    DISCARDED = "discarded", _("Discarded from quarantine")


class MailboxState(models.TextChoices):
    OK = "ok", _("Working")
    FAILING = "failing", _("Failing")
    NEVER = "never", _("Not polled yet")
