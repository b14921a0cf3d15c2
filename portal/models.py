"""Satisfaction ratings and the portal's fault / recovery announcements."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import InformationSystem
from tickets.models import Ticket

from .choices import AnnouncementKind, Score


class Rating(models.Model):
    """The requester's satisfaction with a closed ticket (1–5 and a comment); one per ticket.

    Written only by `portal.services.ticket_rate`; the one-to-one key makes a second rating of
    the same ticket impossible even when two submissions race.
    """

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="rating"
    )
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rated by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    score = models.PositiveSmallIntegerField(_("score"), choices=Score.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


class Announcement(models.Model):
    """A fault or recovery announcement (故障公告 / 恢复公告) shown on the portal's banner
    from `published_at` until `ended_at` (open-ended when empty)."""

    kind = models.CharField(_("kind"), max_length=12, choices=AnnouncementKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("affected system"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="announcements",
    )
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    ended_at = models.DateTimeField(_("ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-published_at"]
        indexes = [models.Index(fields=["-published_at"], name="announcement_published")]

    def __str__(self) -> str:
        return self.title
