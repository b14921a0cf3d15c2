"""Stored notifications and the chat webhooks they may go to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team

from .choices import Channel, DeliveryStatus, WebhookKind


class WebhookEndpoint(models.Model):
    """An incoming-webhook URL of a chat group (a team's WeCom group, an on-call Slack channel).

    With a team, it receives that team's notifications; without, it receives those sent to
    every endpoint (e.g. the operations dispatch centre's group).
    """

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=WebhookKind.choices)
    url = models.URLField(_("URL"), max_length=500)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """One message to one recipient on one channel, delivered at most once.

    `dedupe_key` is unique: creating the same notification twice (a job run twice, two
    workers at once) inserts nothing the second time. Inbox messages are delivered when
    stored; e-mail and webhooks by a Celery task with retries (`attempts`, `last_error`).
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    webhook = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # notification_webhook: the chat rows only
    )
    target = models.CharField(_("to"), max_length=500, blank=True)
    # What happened and its parameters, rendered when shown or sent, in the reader's language
    # (`notifications.kinds`); `subject`/`body` hold the text of older, pre-rendered messages.
    kind = models.CharField(_("kind"), max_length=60, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    # Unique through Meta.constraints: `unique=True` adds a LIKE index nothing reads.
    dedupe_key = models.CharField(max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # A failed delivery is tried again from this time (backoff over hours), by the beat job.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="notification_dedupe_key"),
        ]
        indexes = [
            models.Index(
                fields=["webhook"],
                condition=Q(webhook__isnull=False),
                name="notification_webhook",
            ),
            models.Index(
                fields=["recipient", "-id"],
                condition=Q(channel="inbox"),
                name="notification_inbox",
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(channel="inbox", read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="notification_pending"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending", next_attempt_at__isnull=False),
                name="notification_retry_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.target or self.recipient_id}: {self.kind or self.subject}"


class NotificationRule(models.Model):
    """Which channels one kind of message goes out on, for the whole desk (admin-editable;
    the defaults are in `notifications.kinds` and created by a data migration). Whom it goes
    to is part of the kind (the requester, the assignee, the followers, the verifiers ...)."""

    kind = models.CharField(_("kind"), max_length=60, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    inbox = models.BooleanField(_("in-app inbox"), default=True)
    email = models.BooleanField(_("e-mail"), default=True)
    webhook = models.BooleanField(_("team chat webhook"), default=False)

    class Meta:
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.kind


class NotificationPreference(models.Model):
    """One person's choice for one kind of message: a channel switched off (profile page)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(_("kind"), max_length=60)
    inbox = models.BooleanField(_("in-app inbox"), default=True)
    email = models.BooleanField(_("e-mail"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"
