"""Classification and routing data: the priority matrix, admin rules, classifier model versions,
labelled training examples and the round-robin cursor of each team."""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from catalog.models import Category, InformationSystem, RequestType
from tickets.choices import Channel, Impact, Priority, Urgency
from tickets.models import Ticket

from .choices import ExampleSource, Target

REGEX_MAX_LENGTH = 500


def fold(text: str) -> str:
    """The form rules compare in: full-width letters made ASCII (NFKC), case folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def split_keywords(value: str) -> list[str]:
    """Keywords are written one per line or separated by commas (also the Chinese ，、)."""
    parts = re.split(r"[\n,，、;；]+", value or "")
    return [fold(part.strip()) for part in parts if part.strip()]


class PriorityMatrix(models.Model):
    """One cell of the priority matrix: impact × urgency → P1–P4 (PRODUCT.md §4).

    Seeded with the default matrix by a data migration; administrators edit the cells.
    """

    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)

    class Meta:
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix")
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_matrix_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_impact_display()} × {self.get_urgency_display()} → {self.priority}"


class ClassificationRule(models.Model):
    """An administrator's rule, tried in `order` before the statistical model; the first active
    rule that matches wins.

    A rule matches when every condition it names holds: any of its keywords occurs in the
    title or description (case-insensitive substring, so Chinese words work without
    segmentation), its regular expression finds a match, the ticket came through its channel,
    the ticket names its system. It then sets what it names (request type, category, team,
    impact, urgency); the rest is left to the model.
    """

    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveIntegerField(_("order"), default=100, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)

    keywords = models.TextField(
        _("keywords"),
        blank=True,
        help_text=_("Any of these matches (one per line or comma-separated, case-insensitive)."),
    )
    regex = models.CharField(
        _("regular expression"),
        max_length=REGEX_MAX_LENGTH,
        blank=True,
        help_text=_("Searched in the title and description, case-insensitive."),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("system"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    set_request_type = models.ForeignKey(
        RequestType,
        verbose_name=_("set request type"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    set_category = models.ForeignKey(
        Category,
        verbose_name=_("set category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    set_team = models.ForeignKey(
        Team,
        verbose_name=_("set team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    set_impact = models.PositiveSmallIntegerField(
        _("set impact"), choices=Impact.choices, null=True, blank=True
    )
    set_urgency = models.PositiveSmallIntegerField(
        _("set urgency"), choices=Urgency.choices, null=True, blank=True
    )

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("classification rule")
        verbose_name_plural = _("classification rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # An invalid pattern must never reach the table, whoever saves (forms call clean()).
        try:
            self.compiled_regex()
        except re.error as exc:
            raise ValidationError(
                {"regex": [_("Not a valid regular expression: %(error)s") % {"error": exc}]}
            ) from exc
        super().save(*args, **kwargs)

    @property
    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)

    def compiled_regex(self) -> re.Pattern | None:
        if not self.regex:
            return None
        return re.compile(self.regex, re.IGNORECASE)

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            self.compiled_regex()
        except re.error as exc:
            errors["regex"] = [_("Not a valid regular expression: %(error)s") % {"error": exc}]
        if not (self.keyword_list or self.regex or self.channel or self.system_id):
            errors.setdefault("__all__", []).append(
                _("Give at least one condition: keywords, a regex, a channel or a system.")
            )
        if not (
            self.set_request_type_id
            or self.set_category_id
            or self.set_team_id
            or self.set_impact
            or self.set_urgency
        ):
            errors.setdefault("__all__", []).append(_("Give at least one thing the rule sets."))
        if errors:
            raise ValidationError(errors)


class ClassifierModel(models.Model):
    """One trained version of the text classifier for one target.

    The file lives under `SERVICEDESK["CLASSIFIER_MODEL_DIR"]` (`file_path` is relative to
    it); at most one version per target is active, and routing uses the active one. The
    version is recorded in the log of every ticket it classifies.
    """

    target = models.CharField(_("target"), max_length=20, choices=Target.choices)
    version = models.PositiveIntegerField(_("version"))
    file_path = models.CharField(_("file"), max_length=255)
    trained_at = models.DateTimeField(_("trained"), default=timezone.now)
    n_samples = models.PositiveIntegerField(_("training examples"), default=0)
    labels = models.JSONField(_("labels"), default=list, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    # A hash of the training set: a nightly run with the same data trains nothing new.
    data_fingerprint = models.CharField(_("training data fingerprint"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    # What model selection chose and measured on the training data's held-out folds.
    config = models.JSONField(_("chosen configuration"), default=dict, blank=True)
    cv_macro_f1 = models.FloatField(_("cross-validated macro-F1"), null=True, blank=True)
    baseline_cv_macro_f1 = models.FloatField(
        _("baseline cross-validated macro-F1"), null=True, blank=True
    )
    ece = models.FloatField(_("expected calibration error"), null=True, blank=True)
    target_precision = models.FloatField(
        _("target precision"),
        null=True,
        blank=True,
        help_text=_(
            "Send a ticket to manual triage unless the model is at least this sure, e.g. 0.9. "
            "Empty: the desk-wide confidence threshold applies."
        ),
    )
    threshold = models.FloatField(_("confidence threshold"), null=True, blank=True)
    triage_share = models.FloatField(_("share sent to triage"), null=True, blank=True)
    # Why this version is not active, e.g. a retraining that scored worse than the active one.
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("classifier model")
        verbose_name_plural = _("classifier models")
        ordering = ["target", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["target", "version"], name="classifier_version_unique"),
            models.UniqueConstraint(
                fields=["target"], condition=Q(is_active=True), name="classifier_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} v{self.version}"

    @property
    def absolute_path(self) -> str:
        from pathlib import Path

        return str(Path(settings.SERVICEDESK["CLASSIFIER_MODEL_DIR"]) / self.file_path)

    @property
    def curve(self) -> dict | None:
        """The held-out precision / automation curve (see routing.classifier.calibration)."""
        curve = (self.metrics or {}).get("curve")
        return curve if isinstance(curve, dict) and curve.get("thresholds") else None

    def apply_target_precision(self, target: float | None) -> None:
        """Set the target precision and derive the threshold and the share that would go to
        triage from the held-out curve (no curve: the desk-wide threshold applies)."""
        from .classifier import share_to_triage, threshold_for_precision

        self.target_precision = target
        curve = self.curve
        if curve is None:
            self.threshold = None
            self.triage_share = None
            return
        if target is None:
            default = float(settings.SERVICEDESK["CLASSIFIER_CONFIDENCE_THRESHOLD"])
            self.threshold = None
            self.triage_share = share_to_triage(curve, default)
            return
        self.threshold, self.triage_share, _reachable = threshold_for_precision(curve, target)

    def clean(self) -> None:
        if self.target_precision is not None and not 0.0 < self.target_precision <= 1.0:
            raise ValidationError(
                {"target_precision": [_("Give a precision between 0 and 1, e.g. 0.9.")]}
            )


class TrainingExample(models.Model):
    """A labelled text the classifier learns from: an agent's correction, a closed ticket's
    final classification, or a built-in seed example. `text` is a snapshot, so later edits of
    the ticket do not change what a model version was trained on."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_examples",
    )
    text = models.TextField(_("text"))
    target = models.CharField(_("target"), max_length=20, choices=Target.choices)
    label = models.CharField(_("label"), max_length=60)
    source = models.CharField(_("source"), max_length=20, choices=ExampleSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("training example")
        verbose_name_plural = _("training examples")
        ordering = ["-id"]
        constraints = [
            # One label per ticket and target: a later correction replaces the earlier one.
            models.UniqueConstraint(
                fields=["ticket", "target"],
                condition=Q(ticket__isnull=False),
                name="training_example_ticket_target",
            ),
        ]
        indexes = [models.Index(fields=["target", "source"], name="training_example_target")]

    def __str__(self) -> str:
        return f"{self.target}={self.label} ({self.source})"


class RoundRobinCursor(models.Model):
    """The last person a team's round robin gave a ticket to. Locked with select_for_update
    while choosing the next one, so two tickets created at once never get the same person
    twice in a row."""

    team = models.OneToOneField(
        Team, primary_key=True, on_delete=models.CASCADE, related_name="round_robin_cursor"
    )
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("round-robin cursor")
        verbose_name_plural = _("round-robin cursors")

    def __str__(self) -> str:
        return f"{self.team}: {self.last_assignee}"
