"""Base pieces shared by every app's models.

Nothing here imports a domain app: tickets, knowledge and the later apps build on these bases.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class LocalizedNameMixin(models.Model):
    """Configurable names (teams, systems, taxonomy) carry an English and a Chinese label."""

    name = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        language = get_language() or ""
        if language.startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name


class AppendOnlyLogEntry(models.Model):
    """One entry of an append-only log (a ticket's, an article's, a problem's): what happened
    (`kind`, with its parameters in `data`), who did it, when; the sentence is rendered when
    shown. The services write it in the transaction of the change, and the table's trigger
    refuses UPDATE and DELETE. A concrete log adds the row it belongs to and its index."""

    kind = models.CharField(_("kind"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class SafeAttachment(models.Model):
    """A file someone uploaded, as the desk keeps it: stored under a random `storage_key` (the
    original, sanitised `filename` is metadata only), outside the static root, served only
    through a permission check, its type and size checked by the services before it is saved.
    A concrete attachment adds the row it belongs to and its `file` field, whose storage folder
    is its own."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    storage_key = models.CharField(max_length=64, editable=False)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.filename
