"""Ratings and the satisfaction survey by link (CSAT)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from tickets.choices import EventKind, Status
from tickets.events import event_record
from tickets.models import Ticket
from tickets.permissions import is_requester
from tickets.validation import clean_body

from ..choices import VisitReason
from ..conf import setting
from ..models import Rating, Survey, SurveyReason

TOKEN_BYTES = 32  # 256 bits: unguessable


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _check_score(score) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": [_("Choose a score from 1 to 5.")]})
    return score


def _check_reasons(reasons) -> list[str]:
    reasons = list(reasons or [])
    known = set(SurveyReason.objects.filter(is_active=True).values_list("code", flat=True))
    unknown = [r for r in reasons if r not in known]
    if unknown:
        raise ValidationError({"reasons": [_("Unknown reason: %(r)s") % {"r": unknown[0]}]})
    return sorted(set(reasons))


@transaction.atomic
def rating_submit(
    *,
    ticket_id: int,
    actor: User,
    score: int,
    comment: str = "",
    reasons: list[str] | None = None,
    via_link: bool = False,
) -> Rating:
    """The requester rates a closed ticket once (1–5, an optional comment and reasons).

    Guards: only the ticket's requester; only once it is closed; only once (a concurrent second
    rating is refused by the one-to-one key). Logs `feedback.rated`; a score ≤ LOW_SCORE opens
    a return visit; the ticket's survey, if any, stops working.
    """
    ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
    if not is_requester(ticket, actor):
        raise PermissionDenied(_("Only the requester can rate this ticket."))
    if ticket.status != Status.CLOSED:
        raise ValidationError({"score": [_("A ticket can be rated once it is closed.")]})
    score = _check_score(score)
    comment = clean_body(comment, field="comment")
    reasons = _check_reasons(reasons)
    if Rating.objects.filter(ticket_id=ticket.pk).exists():
        raise ValidationError({"score": [_("This ticket has already been rated.")]})
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                ticket=ticket,
                rated_by=actor,
                score=score,
                comment=comment,
                reasons=reasons,
                via_link=via_link,
            )
    except IntegrityError as exc:
        raise ValidationError({"score": [_("This ticket has already been rated.")]}) from exc
    Survey.objects.filter(ticket=ticket, answered_at__isnull=True).update(
        answered_at=timezone.now()
    )
    event_record(
        ticket=ticket,
        kind=EventKind.SURVEY,
        actor=actor,
        field="rating",
        new=score,
        message=comment,
        data={"rating_id": rating.pk, "reasons": reasons},
    )
    if score <= setting("LOW_SCORE"):
        from .visits import return_visit_open

        return_visit_open(ticket=ticket, reason=VisitReason.LOW_SCORE)
    return rating


def survey_send(*, ticket_id: int) -> tuple[Survey, str] | None:
    """Create the survey of a closed ticket and return it with its token (the only copy);
    None when the ticket already has one, is not closed, or is already rated.

    Side effect after commit: `feedback.notify.notify_survey` (e-mail and in-app).
    """
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
        if ticket.status != Status.CLOSED or Rating.objects.filter(ticket=ticket).exists():
            return None
        if Survey.objects.filter(ticket=ticket).exists():
            return None
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = timezone.now()
        survey = Survey.objects.create(
            ticket=ticket,
            recipient=ticket.requester,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=setting("SURVEY_EXPIRY_DAYS")),
        )
        from ..notify import notify_survey

        notify_survey(ticket, survey_link(token))
    return survey, token


def survey_link(token: str) -> str:
    from django.conf import settings
    from django.urls import reverse

    base = settings.SERVICEDESK["PUBLIC_BASE_URL"].rstrip("/")
    return base + reverse("feedback:survey", args=[token])


def survey_for_token(token: str) -> Survey:
    """The open survey of a token; Http404 when the token is unknown, used or expired (the
    same answer for all, so a guesser learns nothing)."""
    if not token or len(token) > 128:
        raise Http404
    digest = token_hash(token)
    survey = (
        Survey.objects.select_related("ticket", "recipient")
        .filter(Q(token_hash=digest) | Q(reminder_token_hash=digest))
        .first()
    )
    if survey is None or survey.answered_at is not None or survey.expires_at <= timezone.now():
        raise Http404
    return survey


def survey_answer(
    *, token: str, score: int, comment: str = "", reasons: list[str] | None = None
) -> Rating:
    """Answer a survey by its link, without logging in: the rating is the requester's. The
    survey row is locked, so of two concurrent answers one wins and the other is a 404."""
    with transaction.atomic():
        survey = survey_for_token(token)
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if survey.answered_at is not None:
            raise Http404
        rating = rating_submit(
            ticket_id=survey.ticket_id,
            actor=survey.recipient,
            score=score,
            comment=comment,
            reasons=reasons,
            via_link=True,
        )
        survey.answered_at = timezone.now()
        survey.save(update_fields=["answered_at"])
    return rating


def surveys_remind_due(*, limit: int = 1000) -> int:
    """Send the one reminder of unanswered surveys older than SURVEY_REMINDER_AFTER_DAYS.
    Each row is locked and re-checked, and marked before it is sent: a second run, or two
    beats at once, sends nothing twice. The reminder carries a second token of its own; the
    first mail's link keeps working."""
    cutoff = timezone.now() - timedelta(days=setting("SURVEY_REMINDER_AFTER_DAYS"))
    due = list(
        Survey.objects.filter(
            answered_at__isnull=True, reminded_at__isnull=True, created_at__lte=cutoff
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            survey = (
                Survey.objects.select_for_update(skip_locked=True)
                .select_related("ticket")
                .filter(pk=pk, answered_at__isnull=True, reminded_at__isnull=True)
                .first()
            )
            if survey is None or survey.expires_at <= timezone.now():
                continue
            token = secrets.token_urlsafe(TOKEN_BYTES)
            survey.reminder_token_hash = token_hash(token)
            survey.reminded_at = timezone.now()
            survey.save(update_fields=["reminder_token_hash", "reminded_at"])
            from ..notify import notify_survey_reminder

            notify_survey_reminder(survey.ticket, survey_link(token))
            sent += 1
    return sent
