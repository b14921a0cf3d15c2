"""Return visits (回访): sampling closed tickets into the front office's call queue, and
recording the call."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import RequestType
from tickets import services as ticket_services
from tickets.choices import Channel, Status
from tickets.events import event_record
from tickets.models import Ticket
from tickets.validation import clean_body

from .. import events
from ..choices import FollowUp, VisitStatus
from ..conf import setting
from ..models import ReturnVisit, SamplingRun

RETRY_AFTER = timedelta(hours=4)
MAX_ATTEMPTS = 3


def return_visit_open(*, ticket: Ticket, reason: str) -> ReturnVisit | None:
    """Put a closed ticket in the return-visit queue (once; a second call returns None)."""
    try:
        with transaction.atomic():
            return ReturnVisit.objects.create(
                ticket=ticket,
                reason=reason,
                team_id=ticket.team_id,
                agent_id=ticket.assignee_id,
                closed_at=ticket.closed_at or timezone.now(),
            )
    except IntegrityError:  # already in the queue
        return None


# One statement does the month: every closed ticket of the period that its team's rule (or the
# default rule, team NULL) selects, by the first reason that applies. The percentage sample is a
# stable hash of the ticket id, so re-running the period picks the same tickets.
_SAMPLE_SQL = """
WITH rules AS (
    SELECT team_id, percentage, all_complaints, all_p1, all_low_scores
    FROM feedback_returnvisitrule WHERE is_active
)
INSERT INTO feedback_returnvisit
    (ticket_id, reason, status, team_id, agent_id, closed_at, attempts, next_call_at,
     requester_words, follow_up, created_at)
SELECT t.id,
       CASE WHEN r.all_complaints AND rt.code = 'complaint' THEN 'complaint'
            WHEN r.all_p1 AND t.priority = 'P1' THEN 'p1'
            WHEN r.all_low_scores AND ra.score <= %(low)s THEN 'low_score'
            ELSE 'sample' END,
       'open', t.team_id, t.assignee_id, t.closed_at, 0, %(now)s, '', '', %(now)s
FROM tickets_ticket t
JOIN rules r ON r.team_id = t.team_id
    OR (r.team_id IS NULL AND NOT EXISTS (SELECT 1 FROM rules r2 WHERE r2.team_id = t.team_id))
LEFT JOIN catalog_requesttype rt ON rt.id = t.request_type_id
LEFT JOIN feedback_rating ra ON ra.ticket_id = t.id
WHERE t.status = 'closed' AND t.closed_at >= %(start)s AND t.closed_at < %(end)s
  AND ((r.all_complaints AND rt.code = 'complaint')
       OR (r.all_p1 AND t.priority = 'P1')
       OR (r.all_low_scores AND ra.score <= %(low)s)
       OR mod(abs(hashtext(t.id::text || 'visit')), 100) < r.percentage)
ON CONFLICT (ticket_id) DO NOTHING
"""


def return_visits_sample(*, start: datetime, end: datetime, period: str = "") -> int:
    """Sample the tickets closed in [start, end) into the return-visit queue; return how many
    were added. Idempotent: a (job, period) marker is taken first, so a second run of the same
    period adds nothing, and tickets already queued are skipped (ON CONFLICT)."""
    period = period or f"{start.isoformat()}/{end.isoformat()}"
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = SamplingRun.objects.create(job="return_visits", period=period)
        except IntegrityError:
            return 0
        with connection.cursor() as cursor:
            # One set-based statement: compiling it with JIT costs more than running it.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                _SAMPLE_SQL,
                {"start": start, "end": end, "low": setting("LOW_SCORE"), "now": timezone.now()},
            )
            added = cursor.rowcount
        run.sampled = added
        run.save(update_fields=["sampled"])
    return added


@transaction.atomic
def return_visit_record(
    *,
    visit_id: int,
    actor: User,
    reached: bool,
    satisfied: bool | None = None,
    words: str = "",
    follow_up: str = FollowUp.NONE,
) -> ReturnVisit:
    """Record a call. Not reached: the visit comes back later (at most MAX_ATTEMPTS calls).
    Reached: satisfied or not, the requester's words, and the follow-up — none, reopen the
    ticket (within the reopen window, through `ticket_reopen`), or a new complaint ticket.

    Guards: `make_return_visits`; an open visit; the ticket still closed (a ticket reopened
    since is not called back: the call is refused and nothing changes). Logs on the ticket
    (internal).
    """
    if not actor.has_perm("accounts.make_return_visits"):
        raise PermissionDenied(_("You may not record return visits."))
    visit = ReturnVisit.objects.select_for_update().select_related("ticket").get(pk=visit_id)
    if visit.status not in (VisitStatus.OPEN, VisitStatus.RETRY):
        raise ValidationError({"reached": [_("This return visit is already recorded.")]})
    ticket = visit.ticket
    if ticket.status != Status.CLOSED:
        raise ValidationError(
            {"reached": [_("The ticket was reopened since it closed: no return visit is due.")]}
        )
    words = clean_body(words, field="words")
    if follow_up not in FollowUp.values:
        raise ValidationError({"follow_up": [_("Choose a follow-up.")]})
    now = timezone.now()
    visit.attempts += 1
    visit.visited_by = actor
    visit.visited_at = now
    if not reached:
        if visit.attempts >= MAX_ATTEMPTS:
            visit.status = VisitStatus.DONE
        else:
            visit.status = VisitStatus.RETRY
            visit.next_call_at = now + RETRY_AFTER
        visit.save(update_fields=["attempts", "visited_by", "visited_at", "status", "next_call_at"])
        event_record(
            ticket=ticket,
            kind=events.RETURN_VISIT,
            actor=actor,
            field="return_visit",
            new="not_reached",
            is_public=False,
            data={"visit_id": visit.pk, "attempt": visit.attempts},
        )
        return visit
    if satisfied is None:
        raise ValidationError({"satisfied": [_("Say whether the requester is satisfied.")]})
    visit.satisfied = satisfied
    visit.requester_words = words
    visit.follow_up = follow_up
    visit.status = VisitStatus.DONE
    if follow_up == FollowUp.REOPEN:
        ticket_services.ticket_reopen(
            ticket_id=ticket.pk,
            actor=actor,
            reason=_("Reopened after a return visit: %(words)s") % {"words": words or "—"},
        )
    elif follow_up == FollowUp.NEW_TICKET:
        complaint, _created = ticket_services.ticket_create(
            requester=ticket.requester,
            created_by=actor if actor.has_perm("accounts.log_on_behalf") else None,
            channel=Channel.PHONE,
            title=(_("Complaint after return visit of %(number)s") % {"number": ticket.number})[
                :200
            ],
            description=words,
            request_type=RequestType.objects.filter(code="complaint").first(),
        )
        visit.follow_up_ticket = complaint
    visit.save()
    event_record(
        ticket=ticket,
        kind=events.RETURN_VISIT,
        actor=actor,
        field="return_visit",
        new="satisfied" if satisfied else "dissatisfied",
        message=words,
        is_public=False,
        data={"visit_id": visit.pk, "follow_up": follow_up},
    )
    return visit
