"""A major incident (on top of its ticket), its timeline of updates and the portal
announcements it published."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from catalog.models import InformationSystem, SystemModule
from portal.models import Announcement
from tickets.choices import Impact
from tickets.models import Ticket

from .choices import IncidentStatus, ServiceState, UpdateKind


def _pick(zh: str, en: str) -> str:
    language = get_language() or ""
    if language.startswith("zh"):
        return zh or en
    return en or zh


class MajorIncident(ConcurrentTransitionMixin, models.Model):
    """A fault hitting many users, run by a lead. Its `ticket` is the fault ticket other
    tickets link to (`Ticket.incident`); recovery resolves them together.

    declared → announced (outage announcement on the portal) → recovered (recovery
    announcement; the outage announcement ends). Declared → recovered is allowed for a fault
    fixed before anyone announced it.
    """

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="major_incident"
    )
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    systems = models.ManyToManyField(
        InformationSystem, verbose_name=_("affected systems"), related_name="major_incidents"
    )
    modules = models.ManyToManyField(
        SystemModule, verbose_name=_("affected modules"), blank=True, related_name="+"
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, default=Impact.EXTENSIVE
    )
    service_state = models.CharField(
        _("service state"),
        max_length=12,
        choices=ServiceState.choices,
        default=ServiceState.OUTAGE,
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("lead"), on_delete=models.PROTECT, related_name="+"
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(
        _("status"),
        max_length=12,
        choices=IncidentStatus.choices,
        default=IncidentStatus.DECLARED,
        protected=True,
    )
    resolution = models.TextField(_("resolution"), blank=True)
    declared_at = models.DateTimeField(_("declared"), default=timezone.now)
    recovered_at = models.DateTimeField(_("recovered"), null=True, blank=True)

    class Meta:
        verbose_name = _("major incident")
        verbose_name_plural = _("major incidents")
        ordering = ["-declared_at"]
        indexes = [models.Index(fields=["status", "-declared_at"], name="incident_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _pick(self.title_zh, self.title_en) or self.ticket.title

    @property
    def is_active(self) -> bool:
        return self.status != IncidentStatus.RECOVERED

    @transition(field=status, source=IncidentStatus.DECLARED, target=IncidentStatus.ANNOUNCED)
    def announce(self) -> None:
        """The outage announcement is on the portal."""

    @transition(
        field=status,
        source=[IncidentStatus.DECLARED, IncidentStatus.ANNOUNCED],
        target=IncidentStatus.RECOVERED,
    )
    def recover(self, *, resolution: str) -> None:
        self.resolution = resolution
        self.recovered_at = timezone.now()


class IncidentUpdate(models.Model):
    """One entry of an incident's public timeline (status page, linked requesters), in Chinese
    and English. Append-only: written by services, never changed."""

    incident = models.ForeignKey(MajorIncident, on_delete=models.PROTECT, related_name="updates")
    kind = models.CharField(_("kind"), max_length=10, choices=UpdateKind.choices)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    notified = models.PositiveIntegerField(_("requesters notified"), default=0)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind}"

    @property
    def body(self) -> str:
        return _pick(self.body_zh, self.body_en)


class IncidentAnnouncement(models.Model):
    """A portal announcement published for an incident, with both languages of its text.

    The portal's `Announcement` has one title and body; the banner shows those (both languages
    joined), the status page and notifications pick the reader's language from here. The
    recovery announcement ends (sets `ended_at` of) the incident's outage announcements.
    """

    incident = models.ForeignKey(
        MajorIncident, on_delete=models.PROTECT, related_name="announcements"
    )
    announcement = models.OneToOneField(
        Announcement, on_delete=models.PROTECT, related_name="incident_announcement"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=UpdateKind.choices)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("incident announcement")
        verbose_name_plural = _("incident announcements")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _pick(self.title_zh, self.title_en)

    @property
    def body(self) -> str:
        return _pick(self.body_zh, self.body_en)
