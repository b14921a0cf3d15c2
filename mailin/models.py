"""Mailboxes the desk polls, every message it took from them, and addresses that bounce."""

from __future__ import annotations

import os

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ForeignReply, MailboxState, Outcome, Security, UnknownSender

ENV_NAME = RegexValidator(r"^[A-Z_][A-Z0-9_]*$", _("An environment variable name, e.g. MAIL_PW."))


class Mailbox(models.Model):
    """An IMAP mailbox whose new mail becomes tickets and replies.

    The password is never stored: `password_env` names the environment variable that holds it,
    so it is in neither the database, the admin, nor a log. The counters and the failure state
    are written by the poller only (`services.mailbox_record_poll`).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(
        _("port"), default=993, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    security = models.CharField(
        _("encryption"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    username = models.CharField(_("user name"), max_length=255)
    password_env = models.CharField(
        _("password environment variable"),
        max_length=100,
        validators=[ENV_NAME],
        help_text=_("The name of the environment variable that holds the password."),
    )
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    processed_folder = models.CharField(
        _("move processed mail to"),
        max_length=255,
        blank=True,
        help_text=_("Empty: processed mail stays in the folder, marked as read."),
    )
    address = models.EmailField(_("desk address"), help_text=_("The address people write to."))
    from_name = models.CharField(_("sender name of outgoing mail"), max_length=100, blank=True)
    from_address = models.EmailField(
        _("From of outgoing mail"), blank=True, help_text=_("Empty: the desk address.")
    )
    reply_to = models.EmailField(
        _("Reply-To of outgoing mail"), blank=True, help_text=_("Empty: the desk address.")
    )
    default_request_type = models.ForeignKey(
        "catalog.RequestType",
        verbose_name=_("request type of new tickets"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    default_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("unit of new requesters"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    unknown_sender = models.CharField(
        _("mail from unknown addresses"),
        max_length=10,
        choices=UnknownSender.choices,
        default=UnknownSender.CREATE_REQUESTER,
    )
    foreign_reply = models.CharField(
        _("replies from people who may not reply to the ticket"),
        max_length=12,
        choices=ForeignReply.choices,
        default=ForeignReply.NEW_TICKET,
    )
    new_tickets_per_hour = models.PositiveIntegerField(
        _("new tickets per sender and hour"), default=20, validators=[MinValueValidator(1)]
    )
    poll_seconds = models.PositiveIntegerField(
        _("poll every (seconds)"), default=60, validators=[MinValueValidator(10)]
    )
    # Counters and state, written by the poller.
    fetched_count = models.PositiveIntegerField(_("fetched"), default=0, editable=False)
    created_count = models.PositiveIntegerField(_("tickets created"), default=0, editable=False)
    replied_count = models.PositiveIntegerField(_("replies added"), default=0, editable=False)
    ignored_count = models.PositiveIntegerField(_("ignored"), default=0, editable=False)
    quarantined_count = models.PositiveIntegerField(_("quarantined"), default=0, editable=False)
    error_count = models.PositiveIntegerField(_("poll errors"), default=0, editable=False)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=MailboxState.choices,
        default=MailboxState.NEVER,
        editable=False,
    )
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, editable=False)
    last_success_at = models.DateTimeField(_("last success"), null=True, editable=False)
    next_poll_at = models.DateTimeField(_("next poll"), null=True, editable=False)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        indexes = [models.Index(fields=["is_active", "next_poll_at"], name="mailbox_due")]

    def __str__(self) -> str:
        return self.name

    def password(self) -> str:
        """The password, read from the environment at the moment of login."""
        return os.environ.get(self.password_env, "")

    @property
    def outgoing_from(self) -> str:
        return self.from_address or self.address

    @property
    def outgoing_reply_to(self) -> str:
        return self.reply_to or self.address


class InboundMessage(models.Model):
    """One message taken from a mailbox, and what became of it: the key of exactly-once.

    `message_key` (a hash of the Message-ID, or of the raw message when it has none) is unique:
    a message delivered twice, fetched again after a crash before it was marked read, or taken
    by two pollers at once becomes one row and so at most one ticket or reply. The raw message is
    kept (up to MAILIN["RAW_MAX_BYTES"]) as the ticket's source for audit and for a retry from
    quarantine.
    """

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="messages", null=True, blank=True
    )
    message_key = models.CharField(max_length=80, unique=True, editable=False)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    from_address = models.CharField(_("from"), max_length=255, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.ForeignKey(
        "tickets.Comment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raw = models.BinaryField(_("source"), editable=False)
    raw_size = models.PositiveIntegerField(_("size"), default=0)
    raw_truncated = models.BooleanField(_("source truncated"), default=False)
    html_sanitised = models.TextField(_("HTML (sanitised)"), blank=True)
    attachments_not_kept = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(_("taken at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["from_address", "received_at"],
                condition=models.Q(outcome="ticket_created"),
                name="inbound_created_by_sender",
            ),
            models.Index(
                fields=["id"], condition=models.Q(outcome="quarantined"), name="inbound_quarantine"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id or self.message_key} ({self.outcome})"


class QuarantinedMessage(InboundMessage):
    """The quarantine list in the admin: messages that could not become a ticket or reply."""

    class Meta:
        proxy = True
        verbose_name = _("quarantined message")
        verbose_name_plural = _("quarantine")


class FlaggedAddress(models.Model):
    """An address mail to which bounced; outbound mail may skip it (`selectors`)."""

    address = models.CharField(_("address"), max_length=255, unique=True)
    bounce_count = models.PositiveIntegerField(_("bounces"), default=0)
    last_bounce_at = models.DateTimeField(_("last bounce"), default=timezone.now)
    last_reason = models.CharField(_("last reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("bouncing address")
        verbose_name_plural = _("bouncing addresses")

    def __str__(self) -> str:
        return self.address


class MailEvent(models.Model):
    """Append-only log of what people did with taken mail (retry or discard from quarantine)."""

    message = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=40)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("mail event")
        verbose_name_plural = _("mail events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"
