"""The portal's fault / recovery announcements. Satisfaction ratings moved to the `feedback`
app (data migration `feedback.0002_move_ratings`); `Rating` is re-exported for old imports."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import InformationSystem
from feedback.models import Rating  # noqa: F401  (moved to feedback)

from .choices import AnnouncementKind


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
