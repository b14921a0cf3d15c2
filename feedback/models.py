"""Ratings, surveys by link, return visits and quality inspections of closed tickets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from servicedesk.models import LocalizedNameMixin
from tickets.models import Ticket

from .choices import (
    AppealDecision,
    FollowUp,
    InspectionSource,
    InspectionStatus,
    Score,
    VisitReason,
    VisitStatus,
)

USER = settings.AUTH_USER_MODEL


class SurveyReason(LocalizedNameMixin):
    """A checkbox the survey offers ("slow answer", "problem not solved" …); configurable."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("survey reason")
        verbose_name_plural = _("survey reasons")
        ordering = ["position", "code"]


class Rating(models.Model):
    """The requester's satisfaction with a closed ticket (1–5, a comment, reasons); one per
    ticket. Written only by `feedback.services.rating_submit` (from the portal or the survey
    link); the one-to-one key makes a second rating impossible even when two submissions race.
    """

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="rating"
    )
    rated_by = models.ForeignKey(
        USER, verbose_name=_("rated by"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("score"), choices=Score.choices)
    comment = models.TextField(_("comment"), blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    via_link = models.BooleanField(_("answered by survey link"), default=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="feedback_rating_1_to_5"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="feedback_rating_created")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


class Survey(models.Model):
    """The satisfaction survey sent when a ticket closes. Only the SHA-256 of its 256-bit token
    is stored: the link in the requester's mail is the only copy of the token, and a stolen
    database does not reveal working links. Answered (or expired) it stops working."""

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="survey"
    )
    recipient = models.ForeignKey(
        USER, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The reminder carries its own token, so both the first mail's link and the reminder's work.
    reminder_token_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [
            # The reminder job's scan: unanswered, not yet reminded.
            models.Index(
                fields=["created_at"],
                condition=Q(answered_at__isnull=True, reminded_at__isnull=True),
                name="feedback_survey_remind_due",
            )
        ]

    def __str__(self) -> str:
        return f"survey {self.ticket_id}"


class ReturnVisitRule(models.Model):
    """Which closed tickets are called back: a percentage of a team's closed tickets (all
    teams when empty), plus every complaint, every P1 and every low score when ticked."""

    team = models.OneToOneField(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE
    )
    percentage = models.PositiveSmallIntegerField(_("sample percentage"), default=10)
    all_complaints = models.BooleanField(_("all complaints"), default=True)
    all_p1 = models.BooleanField(_("all P1 tickets"), default=True)
    all_low_scores = models.BooleanField(_("all low scores (≤ 2)"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("return-visit rule")
        verbose_name_plural = _("return-visit rules")
        constraints = [
            models.CheckConstraint(condition=Q(percentage__lte=100), name="feedback_rule_pct"),
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(team__isnull=True), name="feedback_rule_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team or _('every team')}: {self.percentage} %"


class ReturnVisit(models.Model):
    """A call back to the requester of a closed ticket (回访), one per ticket, and its outcome."""

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="return_visit"
    )
    reason = models.CharField(_("reason"), max_length=12, choices=VisitReason.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.OPEN
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        USER, verbose_name=_("agent"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("ticket closed"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_call_at = models.DateTimeField(_("call at"), default=timezone.now)
    satisfied = models.BooleanField(_("satisfied"), null=True)
    requester_words = models.TextField(_("requester's words"), blank=True)
    follow_up = models.CharField(
        _("follow-up"), max_length=12, choices=FollowUp.choices, blank=True
    )
    follow_up_ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visited_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visited_at = models.DateTimeField(_("visited"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        indexes = [models.Index(fields=["status", "next_call_at"], name="feedback_visit_queue")]

    def __str__(self) -> str:
        return f"visit {self.ticket_id}"


class SamplingRun(models.Model):
    """A marker per job and period: the sampling of (job, period) was done. Makes the beat
    jobs idempotent: running one twice, or two beats at once, samples a period once."""

    job = models.CharField(max_length=40)
    period = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    sampled = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="feedback_run_once")]

    def __str__(self) -> str:
        return f"{self.job} {self.period}"


class Scorecard(models.Model):
    """A versioned checklist of weighted items. A version that scored something is frozen
    (admin refuses changes); a change is a new version, and the newest active one is used."""

    name = models.CharField(_("name"), max_length=120)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="feedback_scorecard_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ScorecardItem(LocalizedNameMixin):
    """One weighted item of a scorecard (correct classification, timely first response …)."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="items")
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["position", "pk"]


class Inspection(models.Model):
    """A quality inspection (质检) of one closed ticket, scored on one scorecard version."""

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="inspection"
    )
    agent = models.ForeignKey(
        USER, verbose_name=_("agent"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=InspectionSource.choices)
    week = models.DateField(_("week"), help_text=_("Monday of the sampled week"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InspectionStatus.choices,
        default=InspectionStatus.PENDING,
    )
    inspector = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True)
    comment = models.TextField(_("comment"), blank=True)
    scored_at = models.DateTimeField(_("scored"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        indexes = [
            models.Index(fields=["status", "-id"], name="feedback_inspection_queue"),
            models.Index(fields=["agent", "week"], name="feedback_inspection_agent"),
        ]

    def __str__(self) -> str:
        return f"inspection {self.ticket_id}"


class InspectionItemScore(models.Model):
    """The inspector's mark for one scorecard item: 0–100 % of the item's weight."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="marks")
    item = models.ForeignKey(ScorecardItem, on_delete=models.PROTECT, related_name="+")
    percent = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="feedback_mark_once"),
            models.CheckConstraint(condition=Q(percent__lte=100), name="feedback_mark_pct"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.percent} %"


class Appeal(models.Model):
    """The agent's one appeal against an inspection, and the lead's decision."""

    inspection = models.OneToOneField(Inspection, on_delete=models.CASCADE, related_name="appeal")
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("appealed"), default=timezone.now)
    decision = models.CharField(
        _("decision"),
        max_length=10,
        choices=AppealDecision.choices,
        default=AppealDecision.PENDING,
    )
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    original_score = models.DecimalField(max_digits=5, decimal_places=2, null=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")

    def __str__(self) -> str:
        return f"appeal {self.inspection_id}"
