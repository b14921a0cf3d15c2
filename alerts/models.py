"""Integrations (senders with hashed credentials), mapping rules, the alerts they delivered and
the storm groups that bound ticket creation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from catalog.models import InformationSystem, RequestType, SystemModule
from tickets.choices import Impact, Urgency
from tickets.models import Ticket

from .choices import AlertOutcome, AlertStatus, IntegrationKind, NewOccurrencePolicy


class Integration(models.Model):
    """One sender of alerts or requests (an Alertmanager, a Grafana, a monitor, a chat bot).

    The bearer token is stored only as its SHA-256 (shown once when created or rotated); the
    HMAC secret of signed webhooks must be kept readable to verify signatures. Tickets it opens
    are requested by its own `user` (no login, no roles) and created by the desk itself.
    """

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=IntegrationKind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token starts with"), max_length=12, editable=False)
    hmac_secret = models.CharField(_("signing secret"), max_length=128, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester account"),
        on_delete=models.PROTECT,
        related_name="alert_integration",
    )
    auto_resolve = models.BooleanField(
        _("resolve on recovery"),
        default=True,
        help_text=_("A resolved alert resolves its ticket if no agent has taken it yet."),
    )
    new_occurrence = models.CharField(
        _("new occurrence of a known alert"),
        max_length=12,
        choices=NewOccurrencePolicy.choices,
        default=NewOccurrencePolicy.REOPEN,
    )
    storm_threshold = models.PositiveIntegerField(
        _("storm threshold"),
        default=20,
        help_text=_("Alerts of one group beyond this many share one storm ticket."),
    )
    tickets_per_minute = models.PositiveIntegerField(
        _("tickets per minute"),
        default=60,
        help_text=_("At most this many tickets a minute; the rest wait on one storm ticket."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MappingRule(models.Model):
    """Label matchers → where an alert's ticket belongs (admin-editable, first match wins).

    `matchers` is a list of `[label, op, value]` with op `=`, `!=`, `=~`, `!~` (Alertmanager's
    own matcher syntax, anchored regular expressions).
    """

    name = models.CharField(_("name"), max_length=120)
    integration = models.ForeignKey(
        Integration,
        verbose_name=_("integration"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        help_text=_("Empty: applies to every integration."),
    )
    order = models.PositiveIntegerField(_("order"), default=100)
    matchers = models.JSONField(_("label matchers"), default=list, blank=True)
    system = models.ForeignKey(
        InformationSystem, verbose_name=_("system"), null=True, blank=True, on_delete=models.PROTECT
    )
    module = models.ForeignKey(
        SystemModule, verbose_name=_("module"), null=True, blank=True, on_delete=models.PROTECT
    )
    request_type = models.ForeignKey(
        RequestType,
        verbose_name=_("request type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Empty: fault."),
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, null=True, blank=True
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"),
        choices=Urgency.choices,
        null=True,
        blank=True,
        help_text=_("Empty: from the alert's severity label."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mapping rule")
        verbose_name_plural = _("mapping rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class AlertGroup(models.Model):
    """An Alertmanager group (`groupKey`) of one integration: counts its alerts and holds the
    storm ticket that alerts beyond the threshold share. The empty key is the integration's
    overflow group (tickets-per-minute budget exhausted)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="groups")
    group_key = models.CharField(max_length=500)
    alert_count = models.PositiveIntegerField(default=0)
    truncated_total = models.PositiveIntegerField(default=0)
    storm_ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("alert group")
        verbose_name_plural = _("alert groups")
        constraints = [
            models.UniqueConstraint(fields=["integration", "group_key"], name="alertgroup_key")
        ]

    def __str__(self) -> str:
        return self.group_key or "overflow"


class Alert(models.Model):
    """One alert occurrence, keyed by the sender's `fingerprint` + `startsAt`: the first firing
    opens (or joins) a ticket, repeats count, the resolved notification records the recovery."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts")
    group = models.ForeignKey(
        AlertGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    fingerprint = models.CharField(_("fingerprint"), max_length=128)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AlertOutcome.choices)
    severity = models.CharField(_("severity"), max_length=32, blank=True)
    alertname = models.CharField(_("alert"), max_length=200, blank=True)
    labels = models.JSONField(_("labels"), default=dict)
    annotations = models.JSONField(_("annotations"), default=dict)
    generator_url = models.URLField(_("source"), max_length=1000, blank=True)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    # True when this alert opened its ticket (counts against the tickets-per-minute budget).
    opened_ticket = models.BooleanField(default=False)
    rule = models.ForeignKey(
        MappingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    count = models.PositiveIntegerField(_("deliveries"), default=1)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    resolved_at = models.DateTimeField(_("recovered"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "fingerprint", "starts_at"], name="alert_occurrence"
            )
        ]
        indexes = [
            models.Index(fields=["integration", "fingerprint", "-starts_at"], name="alert_fp"),
            models.Index(
                fields=["integration", "first_seen_at"],
                condition=Q(opened_ticket=True),
                name="alert_opened_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alertname} {self.fingerprint}"


class Delivery(models.Model):
    """One accepted POST of an integration (append-only): how many alerts, how many the sender
    left out (`truncatedAlerts`), and the Idempotency-Key that makes a repeat a no-op."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="deliveries"
    )
    received_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=255, blank=True)
    group_key = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, blank=True)
    alert_count = models.PositiveIntegerField(default=0)
    truncated_alerts = models.PositiveIntegerField(default=0)
    ticket_numbers = models.JSONField(default=list)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="delivery_idempotency_key",
            )
        ]
        indexes = [models.Index(fields=["received_at"], name="delivery_received")]

    def __str__(self) -> str:
        return f"{self.integration_id} {self.received_at:%Y-%m-%d %H:%M:%S}"
