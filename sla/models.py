"""Business calendars, SLA and OLA policies, escalation policies, timers and tier stints."""

from __future__ import annotations

import threading
from datetime import time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Tier
from accounts.models import OrgUnit, Team
from catalog.models import RequestType
from tickets.choices import Priority
from tickets.models import Ticket

from .business_time import BusinessCalendar
from .choices import CalendarDateKind, Metric, SummaryFlag, TimerState

# --- business calendars -----------------------------------------------------------------------


def _parse_time(value: str) -> time:
    """ "HH:MM" (or "24:00" for midnight at the end of the day) → time."""
    if value == "24:00":
        return time(0)
    hours, _sep, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def parse_weekly_hours(raw: dict) -> dict[int, tuple[tuple[time, time], ...]]:
    """The JSON of `weekly_hours` → the business-time module's mapping; ValueError if bad."""
    if not isinstance(raw, dict):
        raise ValueError("weekly hours must be an object keyed by ISO weekday 1..7")
    result = {}
    for key, periods in raw.items():
        weekday = int(key)
        if weekday not in range(1, 8):
            raise ValueError(f"weekday {key!r} is not 1..7")
        result[weekday] = tuple((_parse_time(a), _parse_time(b)) for a, b in periods)
    return result


# Built calendars per process, keyed by (id, updated_at): a calendar edited in the admin gets
# a new updated_at (also when one of its dates changes), so every worker rebuilds it on its
# next use without a restart, and unchanged ones keep their cache of computed days.
_calendar_cache: dict[int, tuple[object, BusinessCalendar]] = {}
_calendar_lock = threading.Lock()


class BusinessCalendarConfig(models.Model):
    """When an SLA clock runs: working hours per weekday (lunch breaks allowed), a time zone,
    China's statutory holidays and 调休 make-up days, and this calendar's own dates.

    `weekly_hours` is JSON: {"1": [["09:00", "12:00"], ["13:30", "18:00"]], ...} keyed by ISO
    weekday (1 = Monday); "24:00" ends a period at midnight. `always_open` calendars (24×7,
    P1/P2) ignore hours and holidays. `as_calendar()` gives the pure `BusinessCalendar`.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    always_open = models.BooleanField(
        _("24×7"), default=False, help_text=_("The clock always runs (P1/P2 faults).")
    )
    use_china_statutory = models.BooleanField(
        _("China's statutory holidays"),
        default=True,
        help_text=_("Apply China's public holidays and make-up working days (调休)."),
    )
    weekly_hours = models.JSONField(_("weekly working hours"), default=dict, blank=True)
    makeup_hours = models.JSONField(
        _("make-up day hours"),
        null=True,
        blank=True,
        help_text=_("Hours on make-up working days; empty means Monday's hours."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self._build(holidays=(), workdays=())
        except (ValueError, TypeError) as exc:
            raise ValidationError({"weekly_hours": str(exc)}) from exc

    def _build(self, *, holidays, workdays) -> BusinessCalendar:
        if self.always_open:
            return BusinessCalendar.twenty_four_seven(self.timezone)
        makeup = None
        if self.makeup_hours:
            makeup = tuple((_parse_time(a), _parse_time(b)) for a, b in self.makeup_hours)
        return BusinessCalendar(
            timezone=self.timezone,
            weekly_hours=parse_weekly_hours(self.weekly_hours),
            holidays=frozenset(holidays),
            extra_workdays=frozenset(workdays),
            makeup_hours=makeup,
            use_china_statutory=self.use_china_statutory,
        )

    def as_calendar(self) -> BusinessCalendar:
        """The calendar for arithmetic, cached per process until this row changes."""
        key = self.updated_at
        with _calendar_lock:
            cached = _calendar_cache.get(self.pk)
        if cached is not None and cached[0] == key:
            return cached[1]
        dates = list(self.dates.values_list("date", "kind"))
        calendar = self._build(
            holidays=[d for d, kind in dates if kind == CalendarDateKind.HOLIDAY],
            workdays=[d for d, kind in dates if kind == CalendarDateKind.WORKDAY],
        )
        with _calendar_lock:
            _calendar_cache[self.pk] = (key, calendar)
        return calendar

    @classmethod
    def calendar_of(cls, pk: int, updated_at) -> BusinessCalendar:
        """`as_calendar` of the row `pk` known to be at `updated_at`, without reading the row
        when this process has it built already (screens read the version with their timers)."""
        with _calendar_lock:
            cached = _calendar_cache.get(pk)
        if cached is not None and cached[0] == updated_at:
            return cached[1]
        return cls.objects.get(pk=pk).as_calendar()

    def touch(self) -> None:
        """Mark the calendar changed so every process rebuilds it."""
        self.updated_at = timezone.now()
        BusinessCalendarConfig.objects.filter(pk=self.pk).update(updated_at=self.updated_at)


class CalendarDate(models.Model):
    """One custom date of a calendar: a closure (company holiday) or a make-up working day."""

    calendar = models.ForeignKey(
        BusinessCalendarConfig, on_delete=models.CASCADE, related_name="dates"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=CalendarDateKind.choices)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("calendar date")
        verbose_name_plural = _("calendar dates")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_calendar_date_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    # A date belongs to its calendar's configuration: changing one must invalidate every
    # process's cached calendar, wherever the change comes from (admin inline, shell, API).
    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        self.calendar.touch()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self.calendar.touch()
        return result


# --- policies -------------------------------------------------------------------------------


class SlaPolicy(models.Model):
    """Targets for one priority, optionally narrowed to a request type and/or a unit.

    The most specific active policy wins: type + unit > type > unit > the priority's default.
    Targets are business time on `calendar` (a DurationField, so tests may use seconds);
    "3 business days" is stored as 3 × the calendar's working day (22 h 30 min on the standard
    Chinese calendar). `warn_at_percent` of a target elapsed warns the owner.
    """

    name = models.CharField(_("name"), max_length=120)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    request_type = models.ForeignKey(
        RequestType,
        verbose_name=_("request type"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
    )
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        help_text=_("Applies to requesters in this unit and the units below it."),
    )
    first_response_target = models.DurationField(_("first response target"))
    resolution_target = models.DurationField(_("resolution target"))
    progress_update_target = models.DurationField(
        _("progress update interval"), null=True, blank=True
    )
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at %"), default=75, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    calendar = models.ForeignKey(
        BusinessCalendarConfig,
        verbose_name=_("calendar"),
        on_delete=models.PROTECT,
        related_name="policies",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "request_type", "unit"],
                nulls_distinct=False,
                name="sla_policy_scope_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for name in ("first_response_target", "resolution_target", "progress_update_target"):
            value = getattr(self, name)
            if value is not None and value <= timedelta(0):
                raise ValidationError({name: _("A target must be longer than zero.")})

    def target_for(self, metric: str) -> timedelta | None:
        return {
            Metric.FIRST_RESPONSE: self.first_response_target,
            Metric.RESOLUTION: self.resolution_target,
            Metric.PROGRESS_UPDATE: self.progress_update_target,
        }[metric]


class OlaTarget(models.Model):
    """An internal target (OLA): how long a ticket of a priority may stay at one tier, in
    business time on the calendar of its SLA policy."""

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    target = models.DurationField(_("target"))

    class Meta:
        verbose_name = _("OLA target")
        verbose_name_plural = _("OLA targets")
        ordering = ["tier", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "priority"], name="sla_ola_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} {self.priority}: {self.target}"


class EscalationPolicy(models.Model):
    """How a breach escalates, for a team and/or a priority (most specific wins: team +
    priority > team > priority > the default with neither). Its steps run in level order."""

    name = models.CharField(_("name"), max_length=120)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalation_policies",
    )
    priority = models.CharField(
        _("priority"), max_length=2, choices=Priority.choices, blank=True, default=""
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "priority"],
                nulls_distinct=False,
                name="sla_escalation_scope_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    """One level of an escalation policy, `delay` after the breach.

    Functional: `reassign` moves the ticket to its team's `escalates_to` (tier 1 → tier 2 →
    middle office → back office). Hierarchical: notify the team lead and/or the managers of the
    requester's unit. Every step is logged on the ticket and happens once per timer.
    """

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1)])
    delay = models.DurationField(_("after the breach"), default=timedelta(0))
    reassign = models.BooleanField(_("reassign to the next team"), default=False)
    notify_assignee = models.BooleanField(_("notify the assignee"), default=False)
    notify_team_lead = models.BooleanField(_("notify the team lead"), default=False)
    notify_managers = models.BooleanField(_("notify the managers"), default=False)

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["policy", "level"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="sla_escalation_step_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy} #{self.level}"


# --- timers -----------------------------------------------------------------------------------


class SlaTimer(models.Model):
    """One SLA clock of a ticket (first response, resolution or the next progress update).

    Business time is kept exactly: `used` is the business time spent before the current
    running segment, which began at `segment_started_at`; `due_at` / `warn_at` are the instants
    at which `target` / `warn_at_percent` of it will have elapsed if the clock keeps running.
    Pausing folds the segment into `used`; resuming starts a new segment, so the remaining
    time is preserved. The sweep finds due rows through the partial indexes below, whose size
    is the number of running timers not yet handled, never the number of tickets.
    """

    # No index of its own: sla_timer_ticket (ticket, metric) serves the foreign key.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="sla_timers", db_index=False
    )
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="timers"
    )
    calendar = models.ForeignKey(
        BusinessCalendarConfig, on_delete=models.PROTECT, related_name="timers"
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    target = models.DurationField(_("target"))
    warn_at_percent = models.PositiveSmallIntegerField(_("warn at %"), default=75)
    state = models.CharField(
        _("state"), max_length=10, choices=TimerState.choices, default=TimerState.RUNNING
    )
    used = models.DurationField(_("business time used"), default=timedelta(0))
    started_at = models.DateTimeField(_("started"))
    segment_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA timer")
        verbose_name_plural = _("SLA timers")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric"],
                condition=Q(state__in=["running", "paused"]),
                name="sla_timer_active_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "metric"], name="sla_timer_ticket"),
            # The sweep's two levels and the escalation steps, each only over unhandled rows.
            models.Index(
                fields=["warn_at"],
                condition=Q(state="running", warned_at__isnull=True),
                name="sla_timer_warn_due",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(state="running", breached_at__isnull=True),
                name="sla_timer_breach_due",
            ),
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(state="running", next_escalation_at__isnull=False),
                name="sla_timer_escalation_due",
            ),
            # The at-risk and breached queues (Exists subqueries per ticket).
            models.Index(
                fields=["ticket"],
                condition=Q(
                    state__in=["running", "paused"],
                    warned_at__isnull=False,
                    breached_at__isnull=True,
                ),
                name="sla_timer_at_risk",
            ),
            models.Index(
                fields=["ticket"],
                condition=Q(state__in=["running", "paused"], breached_at__isnull=False),
                name="sla_timer_breached",
            ),
            # The dashboard's breached and at-risk lists: every flagged active clock, matched
            # with the open tickets without reading the rest of the timer table.
            models.Index(
                fields=["ticket"],
                condition=Q(state__in=["running", "paused"])
                & (Q(warned_at__isnull=False) | Q(breached_at__isnull=False)),
                name="sla_timer_flagged",
            ),
            # The dashboard's period (timers started in it).
            models.Index(fields=["started_at"], name="sla_timer_started"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in (TimerState.RUNNING, TimerState.PAUSED)


class TierSpan(models.Model):
    """One stint of a ticket at a tier and team (OLA): where the time was spent.

    Opened and closed by the ASSIGNMENT_CHANGED reaction; `business_time` is measured on the
    calendar of the ticket's resolution policy when the stint ends.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tier_spans")
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tier_spans"
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    business_time = models.DurationField(_("business time"), null=True, blank=True)

    class Meta:
        verbose_name = _("tier stint")
        verbose_name_plural = _("tier stints")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="sla_tierspan_open"
            ),
        ]
        indexes = [models.Index(fields=["ended_at"], name="sla_tierspan_ended")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.tier} {self.started_at:%Y-%m-%d %H:%M}"


# --- official holiday schedules (imported and loaded by `sla.holidays`) ----------------------


class OfficialScheduleDate(models.Model):
    """One date of a year's official schedule, imported by an administrator.

    A holiday (the desk's business clock stops) or a make-up working day (调休: a weekend day
    worked). A year with at least one row replaces the `chinese-calendar` package's data for
    that year in every calendar with China's statutory holidays on; a new import of a year
    replaces all of that year's rows.
    """

    date = models.DateField(_("date"), unique=True)
    year = models.PositiveSmallIntegerField(_("year"), db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=CalendarDateKind.choices)
    name = models.CharField(_("name"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    class Meta:
        verbose_name = _("official holiday date")
        verbose_name_plural = _("official holiday schedule")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()

    def save(self, *args, **kwargs) -> None:
        self.year = self.date.year
        super().save(*args, **kwargs)


class SlaDecision(models.Model):
    """What one decided clock counts for on the SLA dashboard: a first-response or resolution
    timer that was met or breached, with its start (instant and desk day), metric, priority,
    outcome, and its ticket's team and unit as of the last refresh.

    Kept by `sla.rollups.sla_decisions_refresh` in the transaction that decided or moved the
    clock (reactions, the sweep), rebuilt by `manage.py sla_rebuild_rollup`. `SlaComplianceDay`
    is the sum of these rows per day; scoped viewers read these rows (no join with tickets for
    the unit and team part of their scope). Plain ids, no foreign keys: a row is only ever
    changed by the refresh, which also takes away the rows of clocks that are gone.
    """

    timer_id = models.BigIntegerField(primary_key=True)
    ticket_id = models.BigIntegerField(db_index=True)
    started_at = models.DateTimeField()
    # The start's date in settings.TIME_ZONE (the desk's days; rebuild after changing it).
    day = models.DateField()
    metric = models.CharField(max_length=20, choices=Metric.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices)
    team_id = models.BigIntegerField(null=True)
    unit_path = models.CharField(max_length=255, blank=True)
    breached = models.BooleanField()

    class Meta:
        verbose_name = _("decided SLA clock")
        verbose_name_plural = _("decided SLA clocks")
        indexes = [
            # A period for everyone (the edges of a period in another time zone than the
            # desk's), and a unit manager's subtree, both answered from the index alone.
            models.Index(
                fields=["started_at"],
                include=["metric", "priority", "team_id", "breached", "unit_path"],
                name="sla_decision_started",
            ),
            models.Index(
                fields=["unit_path", "started_at"],
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
                include=["metric", "priority", "team_id", "breached"],
                name="sla_decision_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.day}"


class SlaComplianceDay(models.Model):
    """Decided clocks per desk day, metric, priority and (current) team: the sum of the day's
    `SlaDecision` rows, kept in step with them by the same refresh (one row per group, so the
    dashboard reads one row per day and group instead of every timer of the period)."""

    day = models.DateField()
    metric = models.CharField(max_length=20, choices=Metric.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices)
    team_id = models.BigIntegerField(null=True)
    decided = models.IntegerField(default=0)
    breached = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("SLA compliance per day")
        verbose_name_plural = _("SLA compliance per day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "priority", "team_id"],
                # The dashboard sums a period's rows from the index alone.
                include=["decided", "breached"],
                nulls_distinct=False,
                name="sla_compliance_day_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.priority} {self.team_id}"


class SlaTicketSummary(models.Model):
    """One open ticket with a flagged active clock (warned or breached): its flag, the earliest
    due time over all its active clocks (None when they are all paused) and its team and unit
    as of the last refresh: the dashboard's breached and at-risk lists and counts.

    Kept by `sla.services.sla_summary_refresh` in the transaction that flagged, moved, paused,
    met or stopped a clock or moved the ticket to another team (the reactions, the sweep),
    rebuilt by `manage.py sla_rebuild_rollup`. No row for a ticket without a flagged clock, so
    its size is the flagged backlog and a new clock costs no write. No database foreign key
    (a refresh must not lock ticket rows: the sweep holds them while it escalates); deleting a
    ticket deletes its row through the ORM. docs/decisions/0011-sla-ticket-summary.md.
    """

    ticket = models.OneToOneField(
        Ticket,
        primary_key=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="sla_summary",
    )
    flag = models.CharField(max_length=10, choices=SummaryFlag.choices)
    due_at = models.DateTimeField(null=True)
    team_id = models.BigIntegerField(null=True)
    unit_path = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("SLA ticket summary")
        verbose_name_plural = _("SLA ticket summaries")
        indexes = [
            # The lists: the first N of a flag in order; the counts: index-only per flag; a
            # scoped viewer's lists filter the same scan on the included team and unit.
            models.Index(
                fields=["flag", "due_at", "ticket"],
                include=["team_id", "unit_path"],
                name="sla_summary_list",
            ),
            # A unit manager's and a team's flagged tickets, counted from the index alone.
            models.Index(
                fields=["unit_path"],
                opclasses=["varchar_pattern_ops"],
                include=["flag"],
                name="sla_summary_unit",
            ),
            models.Index(fields=["team_id"], include=["flag"], name="sla_summary_team"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.flag} {self.due_at}"
