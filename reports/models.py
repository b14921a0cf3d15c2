"""The read model of the reports: per-ticket facts, daily rollups, their watermark, the release
calendar, detected spikes and the repeated-problem snapshots.

Facts and rollups hold plain integer ids (no foreign keys): they are derived data, rebuilt from
the tickets at any time (`reports.rollups.rollup_refresh(full=True)`), and must never block a
delete elsewhere or cost a join to write.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, InformationSystem, RequestType

from .choices import Outcome


class TicketFact(models.Model):
    """One ticket as the reports see it: its current dimensions, its times and its outcomes.

    Refreshed by `reports.rollups` whenever the ticket's operation log grows. Times are
    calendar (wall-clock) seconds; the SLA outcomes come from the SLA clocks, which run on
    business time for P3/P4.
    """

    ticket_id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField()
    created_day = models.DateField()
    resolved_day = models.DateField(null=True)
    closed_day = models.DateField(null=True)
    unit_id = models.BigIntegerField(null=True)
    unit_path = models.CharField(max_length=255, blank=True)
    team_id = models.BigIntegerField(null=True)
    tier = models.CharField(max_length=10, blank=True)
    priority = models.CharField(max_length=2)
    request_type_id = models.BigIntegerField(null=True)
    system_id = models.BigIntegerField(null=True)
    module_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    requester_id = models.BigIntegerField()
    assignee_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=24)
    is_open = models.BooleanField()
    first_response_seconds = models.IntegerField(null=True)
    resolution_seconds = models.IntegerField(null=True)
    first_response = models.SmallIntegerField(choices=Outcome.choices, default=Outcome.UNDECIDED)
    resolution = models.SmallIntegerField(choices=Outcome.choices, default=Outcome.UNDECIDED)
    progress_update = models.SmallIntegerField(choices=Outcome.choices, default=Outcome.UNDECIDED)
    reopened = models.BooleanField(default=False)
    escalated_from_front = models.BooleanField(default=False)
    escalated_from_middle = models.BooleanField(default=False)
    front_resolved = models.BooleanField(default=False)
    first_contact = models.BooleanField(default=False)
    seconds_front = models.IntegerField(null=True)
    seconds_middle = models.IntegerField(null=True)
    seconds_back = models.IntegerField(null=True)
    ola_breached_front = models.BooleanField(null=True)
    ola_breached_middle = models.BooleanField(null=True)
    ola_breached_back = models.BooleanField(null=True)
    rating = models.SmallIntegerField(null=True)
    confidence = models.FloatField(null=True)

    class Meta:
        verbose_name = _("ticket fact")
        verbose_name_plural = _("ticket facts")
        indexes = [
            models.Index(fields=["created_day"], name="reports_fact_created"),
            models.Index(
                fields=["resolved_day", "priority"],
                condition=Q(resolved_day__isnull=False),
                name="reports_fact_resolved",
            ),
            models.Index(
                fields=["created_at"], condition=Q(is_open=True), name="reports_fact_open"
            ),
            # The backlog grid (status × age) as an index-only scan of the open tickets.
            models.Index(
                fields=["status", "created_at"],
                condition=Q(is_open=True),
                name="reports_fact_open_status",
            ),
        ]

    def __str__(self) -> str:
        return f"fact of ticket {self.ticket_id}"


class DailyRollup(models.Model):
    """Counters of one day for one combination of dimensions.

    Created-day counters: created, SLA outcomes, escalations, time per tier and OLA. Resolved-day
    counters: resolved, reopened, front-office and first-contact resolutions, resolution time,
    ratings. Closed-day: closed. A day's rows are rebuilt whole from the facts when any ticket
    touching that day changed, so a refresh is idempotent.
    """

    day = models.DateField()
    unit_id = models.BigIntegerField(null=True)
    unit_path = models.CharField(max_length=255, blank=True)
    team_id = models.BigIntegerField(null=True)
    tier = models.CharField(max_length=10, blank=True)
    priority = models.CharField(max_length=2)
    request_type_id = models.BigIntegerField(null=True)
    system_id = models.BigIntegerField(null=True)
    created = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    front_resolved = models.IntegerField(default=0)
    first_contact = models.IntegerField(default=0)
    escalated_from_front = models.IntegerField(default=0)
    escalated_from_middle = models.IntegerField(default=0)
    fr_met = models.IntegerField(default=0)
    fr_breached = models.IntegerField(default=0)
    res_met = models.IntegerField(default=0)
    res_breached = models.IntegerField(default=0)
    pu_met = models.IntegerField(default=0)
    pu_breached = models.IntegerField(default=0)
    fr_seconds = models.BigIntegerField(default=0)
    fr_count = models.IntegerField(default=0)
    res_seconds = models.BigIntegerField(default=0)
    res_count = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    rating_count = models.IntegerField(default=0)
    in_front = models.IntegerField(default=0)
    in_middle = models.IntegerField(default=0)
    in_back = models.IntegerField(default=0)
    seconds_front = models.BigIntegerField(default=0)
    seconds_middle = models.BigIntegerField(default=0)
    seconds_back = models.BigIntegerField(default=0)
    ola_breached_front = models.IntegerField(default=0)
    ola_breached_middle = models.IntegerField(default=0)
    ola_breached_back = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        indexes = [models.Index(fields=["day"], name="reports_rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.priority}"


class RollupState(models.Model):
    """The watermark of the incremental refresh: the operation-log id read up to."""

    key = models.CharField(max_length=20, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)
    tickets_refreshed = models.BigIntegerField(default=0)
    # A new value on every refresh: report pages cache what they computed under it, and no
    # refresh (or another database sharing the cache) can ever be served another's numbers.
    generation = models.UUIDField(null=True, editable=False)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"{self.key} @ {self.last_event_id}"


class Release(models.Model):
    """A release of an information system (版本发布): spikes are annotated with the nearest
    release of their system that precedes them."""

    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("system"),
        on_delete=models.PROTECT,
        related_name="releases",
    )
    version = models.CharField(_("version"), max_length=60)
    released_on = models.DateField(_("released on"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-released_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="reports_release_unique")
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.version}"


class Spike(models.Model):
    """A day on which one request type × system got significantly more tickets than its
    trailing baseline (robust z-score); one row per day and pair, so detection is idempotent."""

    day = models.DateField(_("day"))
    request_type = models.ForeignKey(
        RequestType, verbose_name=_("request type"), on_delete=models.CASCADE, related_name="+"
    )
    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("system"),
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    count = models.IntegerField(_("tickets"))
    baseline = models.FloatField(_("baseline (median)"))
    score = models.FloatField(_("robust z-score"))
    release = models.ForeignKey(
        Release,
        verbose_name=_("preceding release"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="spikes",
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("spike")
        verbose_name_plural = _("spikes")
        ordering = ["-day", "-score"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "request_type", "system"],
                name="reports_spike_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.request_type_id}/{self.system_id}: {self.count}"


class RepeatedProblem(models.Model):
    """One of the top repeated problems of a period: similar tickets grouped by their text,
    category and system, named by the most typical title. A snapshot, recomputed by beat."""

    period_days = models.PositiveSmallIntegerField()
    period_end = models.DateField()
    rank = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL, related_name="+")
    system = models.ForeignKey(
        InformationSystem, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    count = models.IntegerField()
    previous_count = models.IntegerField()
    ticket_ids = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("repeated problem")
        verbose_name_plural = _("repeated problems")
        ordering = ["period_days", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["period_days", "rank"], name="reports_problem_rank")
        ]

    def __str__(self) -> str:
        return self.title
