"""Reads of the feedback app, scoped by the viewer."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Team, User

from .choices import AppealDecision, InspectionStatus, VisitStatus
from .models import Appeal, Inspection, Rating, ReturnVisit, SurveyReason


def rating_for(*, ticket_id: int) -> Rating | None:
    return Rating.objects.filter(ticket_id=ticket_id).first()


def survey_reasons() -> QuerySet[SurveyReason]:
    return SurveyReason.objects.filter(is_active=True)


def inspection_queue(*, viewer: User) -> QuerySet[Inspection]:
    """Inspections still to score, oldest week first (QA inspectors only)."""
    if not viewer.has_perm("accounts.inspect_quality"):
        return Inspection.objects.none()
    return (
        Inspection.objects.filter(status=InspectionStatus.PENDING)
        .exclude(agent=viewer)
        .select_related("ticket", "agent", "team")
        .order_by("week", "id")
    )


def inspection_get(*, viewer: User, inspection_id: int) -> Inspection:
    """One inspection: for inspectors, the inspected agent, and leads / administrators."""
    qs = Inspection.objects.select_related("ticket", "agent", "team", "scorecard", "inspector")
    if not (
        viewer.has_perm("accounts.inspect_quality") or viewer.has_perm("accounts.configure_desk")
    ):
        qs = qs.filter(
            Q(agent=viewer) | Q(team__lead=viewer) | Q(agent__teams__lead=viewer)
        ).distinct()
    return qs.get(pk=inspection_id)


def inspections_of_agent(*, viewer: User) -> QuerySet[Inspection]:
    """The viewer's own scored inspections (the agent's view)."""
    return (
        Inspection.objects.filter(agent=viewer)
        .exclude(status=InspectionStatus.PENDING)
        .select_related("ticket", "appeal")
        .order_by("-scored_at", "-id")
    )


def appeals_to_decide(*, viewer: User) -> QuerySet[Appeal]:
    """Pending appeals a lead may decide: of their teams' agents (all for administrators)."""
    qs = Appeal.objects.filter(decision=AppealDecision.PENDING).select_related(
        "inspection__ticket", "inspection__agent", "created_by"
    )
    if viewer.has_perm("accounts.configure_desk"):
        return qs.exclude(inspection__agent=viewer)
    led = Team.objects.filter(lead=viewer)
    return (
        qs.filter(Q(inspection__team__in=led) | Q(inspection__agent__teams__in=led))
        .exclude(inspection__agent=viewer)
        .distinct()
    )


def visit_queue(*, viewer: User) -> QuerySet[ReturnVisit]:
    """Return visits due now (to call, or to call again), oldest closure first."""
    if not viewer.has_perm("accounts.make_return_visits"):
        return ReturnVisit.objects.none()
    return (
        ReturnVisit.objects.filter(
            status__in=[VisitStatus.OPEN, VisitStatus.RETRY], next_call_at__lte=timezone.now()
        )
        .select_related("ticket", "ticket__requester", "team", "agent")
        .order_by("closed_at", "id")
    )


def visit_get(*, viewer: User, visit_id: int) -> ReturnVisit:
    """One return visit, for those who make return visits."""
    if not viewer.has_perm("accounts.make_return_visits"):
        raise ReturnVisit.DoesNotExist
    return ReturnVisit.objects.select_related("ticket", "ticket__requester").get(pk=visit_id)


def _period(qs, field: str, start: datetime | None, end: datetime | None):
    if start:
        qs = qs.filter(**{f"{field}__gte": start})
    if end:
        qs = qs.filter(**{f"{field}__lt": end})
    return qs


def inspection_scores(
    *, viewer: User, by: str, start: datetime | None = None, end: datetime | None = None
) -> list[dict]:
    """Mean inspection score and count per agent or team in a period (reports readers)."""
    if not viewer.has_perm("accounts.view_reports"):
        return []
    key = {"agent": "agent__username", "team": "team__name"}[by]
    qs = _period(Inspection.objects.exclude(score__isnull=True), "scored_at", start, end)
    return list(qs.values(key).annotate(mean=Avg("score"), count=Count("id")).order_by(key))


def visit_stats(
    *, viewer: User, by: str, start: datetime | None = None, end: datetime | None = None
) -> list[dict]:
    """Return visits done per agent or team: how many, reached, satisfied."""
    if not viewer.has_perm("accounts.view_reports"):
        return []
    key = {"agent": "agent__username", "team": "team__name"}[by]
    qs = _period(ReturnVisit.objects.filter(status=VisitStatus.DONE), "visited_at", start, end)
    return list(
        qs.values(key)
        .annotate(
            count=Count("id"),
            reached=Count("id", filter=Q(satisfied__isnull=False)),
            satisfied=Count("id", filter=Q(satisfied=True)),
        )
        .order_by(key)
    )


def csat(*, viewer: User, start: datetime | None = None, end: datetime | None = None) -> dict:
    """Mean rating and count in a period."""
    if not viewer.has_perm("accounts.view_reports"):
        return {}
    return _period(Rating.objects.all(), "created_at", start, end).aggregate(
        mean=Avg("score"), count=Count("id")
    )
