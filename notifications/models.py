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
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(_("to"), max_length=500, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [
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
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.target or self.recipient_id}: {self.subject}"
