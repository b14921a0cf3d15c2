"""Catalogue services, their form fields, and the structured answers of a request."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from catalog.models import Category, InformationSystem, RequestType
from servicedesk.models import LocalizedNameMixin
from sla.models import SlaPolicy
from tickets.choices import Impact, Urgency
from tickets.models import Ticket

from .choices import FieldKind


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


class ServiceGroup(LocalizedNameMixin):
    """A heading of the catalogue page (accounts and access, data, reports …)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("service group")
        verbose_name_plural = _("service groups")
        ordering = ["position", "code"]


SUMMARY_CHARS = 140


class Service(LocalizedNameMixin):
    """One thing a requester can ask for, with its form and where its tickets go. Retired
    services (`is_active` off) leave the catalogue; their past requests keep their answers."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    group = models.ForeignKey(
        ServiceGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="services"
    )
    description = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    keywords = models.CharField(_("search keywords"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    # The mapping: what a request of this service is, and where it goes.
    request_type = models.ForeignKey(
        RequestType, verbose_name=_("request type"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT
    )
    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("system"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Where requests are queued; empty: the request type's entry tier decides."),
    )
    impact = models.PositiveSmallIntegerField(
        _("default impact"), choices=Impact.choices, default=Impact.MINOR
    )
    urgency = models.PositiveSmallIntegerField(
        _("default urgency"), choices=Urgency.choices, default=Urgency.MEDIUM
    )
    sla_policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ask_impact = models.BooleanField(
        _("ask the requester for impact and urgency"),
        default=False,
        help_text=_("What a requester states alone raises a ticket to P2 at most."),
    )
    # The data service catalogue (数据服务目录).
    is_data_service = models.BooleanField(_("data service"), default=False)
    dataset = models.CharField(_("dataset"), max_length=200, blank=True)
    owner_team = models.ForeignKey(
        Team,
        verbose_name=_("owner team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    how_to_request = models.TextField(_("how to request (English)"), blank=True)
    how_to_request_zh = models.TextField(_("how to request (Chinese)"), blank=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["group__position", "position", "code"]
        indexes = [models.Index(fields=["is_active", "position"], name="service_offered")]

    @property
    def text(self) -> str:
        return self.description_zh if _zh() and self.description_zh else self.description

    @property
    def summary(self) -> str:
        """The description cut to a card's length. A plain cut: the catalogue page shows 200
        cards, and the template filter (Unicode normalisation per card) was a fifth of its
        rendering time."""
        text = self.text
        return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"

    @property
    def how(self) -> str:
        return self.how_to_request_zh if _zh() and self.how_to_request_zh else self.how_to_request


class ServiceField(LocalizedNameMixin):
    """One field of a service's form. `name` / `name_zh` are its label. Choices are one per
    line, `value|English|中文`. With `show_if` it is shown (and accepted) only when the field
    with that key has the value `show_if_value` (for a multi-choice: contains it)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(_("key"), max_length=40)
    kind = models.CharField(_("kind"), max_length=14, choices=FieldKind.choices)
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text (English)"), max_length=300, blank=True)
    help_text_zh = models.CharField(_("help text (Chinese)"), max_length=300, blank=True)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("One per line: value|English|中文")
    )
    show_if = models.SlugField(_("shown if field"), max_length=40, blank=True)
    show_if_value = models.CharField(_("has the value"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["service", "key"], name="service_field_key")]

    @property
    def help(self) -> str:
        return self.help_text_zh if _zh() and self.help_text_zh else self.help_text

    def choice_list(self) -> list[tuple[str, str]]:
        result = []
        for line in self.choices.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if not parts[0]:
                continue
            english = parts[1] if len(parts) > 1 and parts[1] else parts[0]
            chinese = parts[2] if len(parts) > 2 and parts[2] else english
            result.append((parts[0], chinese if _zh() else english))
        return result


class ServiceRequest(models.Model):
    """The structured answers of a catalogue request, one-to-one with its ticket. `answers` is a
    list of {key, label, label_zh, kind, value, display} in form order, as answered."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, related_name="service_request", verbose_name=_("ticket")
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="requests", verbose_name=_("service")
    )
    answers = models.JSONField(_("answers"), default=list)
    stated_impact = models.PositiveSmallIntegerField(null=True, blank=True)
    stated_urgency = models.PositiveSmallIntegerField(null=True, blank=True)
    by_agent = models.BooleanField(_("logged by an agent"), default=False)
    routed = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("catalogue request")
        verbose_name_plural = _("catalogue requests")
        indexes = [
            models.Index(fields=["service", "-created_at"], name="service_request_recent"),
            models.Index(fields=["id"], condition=Q(routed=False), name="service_request_unrouted"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} → {self.ticket_id}"
