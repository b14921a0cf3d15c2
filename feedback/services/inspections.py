"""Quality inspection (质检): weekly samples per agent, on-demand inspections, scoring on a
weighted scorecard, the agent's one appeal and the lead's decision."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from tickets.choices import Status
from tickets.events import event_record
from tickets.models import Ticket
from tickets.validation import clean_body

from .. import events
from ..choices import AppealDecision, InspectionSource, InspectionStatus
from ..conf import setting
from ..models import Appeal, Inspection, InspectionItemScore, SamplingRun, Scorecard

CENT = Decimal("0.01")


def scorecard_active() -> Scorecard:
    """The scorecard new inspections use: the newest version of the active ones."""
    card = Scorecard.objects.filter(is_active=True).order_by("-created_at", "-version").first()
    if card is None:
        raise ValidationError({"scorecard": [_("No active scorecard: an administrator adds one.")]})
    return card


def weighted_score(weights_and_percents: list[tuple[int, int]]) -> Decimal:
    """Σ weight × percent / Σ weight, rounded half-up to 0.01 (0–100)."""
    total_weight = sum(w for w, _p in weights_and_percents)
    if total_weight <= 0:
        return Decimal("0.00")
    points = sum(Decimal(w) * Decimal(p) for w, p in weights_and_percents)
    return (points / Decimal(total_weight)).quantize(CENT, rounding=ROUND_HALF_UP)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


_SAMPLE_SQL = """
INSERT INTO feedback_inspection
    (ticket_id, agent_id, team_id, scorecard_id, source, week, status, comment, created_at)
SELECT id, assignee_id, team_id, %(card)s, 'sample', %(week)s, 'pending', '', %(now)s
FROM (
    SELECT t.id, t.assignee_id, t.team_id,
           row_number() OVER (PARTITION BY t.assignee_id
                              ORDER BY hashtext(t.id::text || 'qa'), t.id) AS n
    FROM tickets_ticket t
    WHERE t.status = 'closed' AND t.assignee_id IS NOT NULL
      AND t.closed_at >= %(start)s AND t.closed_at < %(end)s
      AND NOT EXISTS (SELECT 1 FROM feedback_inspection i WHERE i.ticket_id = t.id)
) picked
WHERE n <= %(per_agent)s
ON CONFLICT (ticket_id) DO NOTHING
"""


def inspection_sample_week(*, week: date) -> int:
    """Sample INSPECTIONS_PER_AGENT_PER_WEEK closed tickets of each agent (by the ticket's
    assignee) closed in the week starting on Monday `week`; return how many were added.
    Idempotent: a (job, week) marker first; a second run adds nothing."""
    week = monday_of(week)
    tz = timezone.get_current_timezone()
    start = datetime.combine(week, time.min, tzinfo=tz)
    card = scorecard_active()
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = SamplingRun.objects.create(job="inspections", period=week.isoformat())
        except IntegrityError:
            return 0
        with connection.cursor() as cursor:
            # One set-based statement: compiling it with JIT costs more than running it.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                _SAMPLE_SQL,
                {
                    "card": card.pk,
                    "week": week,
                    "now": timezone.now(),
                    "start": start,
                    "end": start + timedelta(days=7),
                    "per_agent": setting("INSPECTIONS_PER_AGENT_PER_WEEK"),
                },
            )
            added = cursor.rowcount
        run.sampled = added
        run.save(update_fields=["sampled"])
    return added


@transaction.atomic
def inspection_request(*, ticket_id: int, actor: User) -> Inspection:
    """Inspect any closed ticket on demand (returns its inspection when it already has one).
    Guards: `inspect_quality`; the ticket closed."""
    if not actor.has_perm("accounts.inspect_quality"):
        raise PermissionDenied(_("You may not inspect tickets."))
    ticket = Ticket.objects.get(pk=ticket_id)
    if ticket.status != Status.CLOSED:
        raise ValidationError({"ticket": [_("Only closed tickets are inspected.")]})
    inspection, _created = Inspection.objects.get_or_create(
        ticket=ticket,
        defaults={
            "agent_id": ticket.assignee_id,
            "team_id": ticket.team_id,
            "scorecard": scorecard_active(),
            "source": InspectionSource.ON_DEMAND,
            "week": monday_of(timezone.localdate(ticket.closed_at or timezone.now())),
        },
    )
    return inspection


@transaction.atomic
def inspection_score(
    *, inspection_id: int, actor: User, marks: dict[int, int], comment: str = ""
) -> Inspection:
    """Score a pending inspection: a percent (0–100) for every item of its scorecard; the
    score is their weighted mean. Guards: `inspect_quality`; not one's own ticket; still
    pending — the row is locked, so of two inspectors scoring at once the second is refused.
    Logs `feedback.inspected` (internal)."""
    if not actor.has_perm("accounts.inspect_quality"):
        raise PermissionDenied(_("You may not inspect tickets."))
    inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
    if inspection.status != InspectionStatus.PENDING:
        raise ValidationError({"__all__": [_("This inspection was already scored.")]})
    if inspection.agent_id == actor.pk:
        raise PermissionDenied(_("You may not inspect your own ticket."))
    items = list(inspection.scorecard.items.all())
    errors = {}
    for item in items:
        value = marks.get(item.pk)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            errors[f"item_{item.pk}"] = [_("Give 0 to 100 %.")]
    if set(marks) - {item.pk for item in items}:
        errors["__all__"] = [_("A mark for an item not on this scorecard.")]
    if errors:
        raise ValidationError(errors)
    InspectionItemScore.objects.bulk_create(
        [InspectionItemScore(inspection=inspection, item=i, percent=marks[i.pk]) for i in items]
    )
    inspection.score = weighted_score([(i.weight, marks[i.pk]) for i in items])
    inspection.comment = clean_body(comment, field="comment")
    inspection.inspector = actor
    inspection.scored_at = timezone.now()
    inspection.status = InspectionStatus.SCORED
    inspection.save(update_fields=["score", "comment", "inspector", "scored_at", "status"])
    event_record(
        ticket=inspection.ticket,
        kind=events.INSPECTED,
        actor=actor,
        field="inspection",
        new=str(inspection.score),
        message=inspection.comment,
        is_public=False,
        data={"inspection_id": inspection.pk},
    )
    return inspection


@transaction.atomic
def inspection_appeal(*, inspection_id: int, actor: User, reason: str) -> Appeal:
    """The inspected agent appeals once, with a reason. Guards: the agent of the inspection;
    scored, not yet appealed."""
    inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
    if inspection.agent_id != actor.pk:
        raise PermissionDenied(_("Only the inspected agent may appeal."))
    if (
        inspection.status != InspectionStatus.SCORED
        or Appeal.objects.filter(inspection=inspection).exists()
    ):
        raise ValidationError({"reason": [_("This inspection cannot be appealed (only once).")]})
    reason = clean_body(reason, field="reason")
    if not reason.strip():
        raise ValidationError({"reason": [_("Give a reason.")]})
    appeal = Appeal.objects.create(
        inspection=inspection, reason=reason, created_by=actor, original_score=inspection.score
    )
    inspection.status = InspectionStatus.APPEALED
    inspection.save(update_fields=["status"])
    return appeal


def may_decide(inspection: Inspection, user: User) -> bool:
    """A lead decides: the lead of the inspection's team or of a team the agent is in, or an
    administrator (`configure_desk`) — never the agent themself."""
    if user.pk == inspection.agent_id:
        return False
    if user.has_perm("accounts.configure_desk"):
        return True
    teams = Team.objects.filter(lead=user)
    return (
        teams.filter(pk=inspection.team_id).exists()
        or teams.filter(members__pk=inspection.agent_id).exists()
    )


@transaction.atomic
def appeal_decide(
    *,
    inspection_id: int,
    actor: User,
    upheld: bool,
    note: str = "",
    revised_score: Decimal | None = None,
) -> Appeal:
    """A lead decides an appeal: upheld (with the revised score, 0–100) or rejected; either way
    the inspection is final. Guards: `may_decide`; a pending appeal."""
    inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
    if not may_decide(inspection, actor):
        raise PermissionDenied(_("Only a lead may decide this appeal."))
    appeal = Appeal.objects.select_for_update().filter(inspection=inspection).first()
    if appeal is None or appeal.decision != AppealDecision.PENDING:
        raise ValidationError({"__all__": [_("There is no pending appeal.")]})
    if upheld:
        if revised_score is None or not Decimal(0) <= Decimal(revised_score) <= Decimal(100):
            raise ValidationError({"revised_score": [_("Give the revised score, 0 to 100.")]})
        inspection.score = Decimal(revised_score).quantize(CENT, rounding=ROUND_HALF_UP)
    appeal.decision = AppealDecision.UPHELD if upheld else AppealDecision.REJECTED
    appeal.decided_by = actor
    appeal.decided_at = timezone.now()
    appeal.decision_note = clean_body(note, field="note")
    appeal.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
    inspection.status = InspectionStatus.FINAL
    inspection.save(update_fields=["score", "status"])
    return appeal
