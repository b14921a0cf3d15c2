"""Pages of the feedback app: the survey by link (no login), the quality desk (the QA
inspector's landing page: inspections to score and return visits to make), scoring an
inspection with the ticket's whole log read-only, the agent's inspections and appeal, the
lead's decision, and the scores per agent, team and period."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from servicedesk.ui import run_service
from tickets import selectors as ticket_selectors
from tickets.models import Ticket
from tickets.timeline import timeline_entries

from . import forms, selectors, services
from .choices import InspectionStatus
from .models import Inspection, ReturnVisit


def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The survey of one ticket, opened from the mail's link without logging in. Unknown,
    used or expired tokens are all the same 404. Shows only the ticket's number and title."""
    found = services.survey_for_token(token)
    language = found.recipient.language or translation.get_language()
    with translation.override(language):
        form = forms.SurveyForm(request.POST or None, reasons=selectors.survey_reasons())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            ok, _r = run_service(
                request,
                lambda: services.survey_answer(
                    token=token,
                    score=data["score"],
                    comment=data["comment"],
                    reasons=data["reasons"],
                ),
                form=form,
            )
            if ok:
                return render(request, "feedback/survey_done.html", {"ticket": found.ticket})
        return render(request, "feedback/survey.html", {"form": form, "ticket": found.ticket})


def _period(request: HttpRequest):
    form = forms.PeriodForm(request.GET or None)
    start = end = None
    if form.is_valid():
        tz = timezone.get_current_timezone()
        if form.cleaned_data["start"]:
            start = datetime.combine(form.cleaned_data["start"], time.min, tzinfo=tz)
        if form.cleaned_data["end"]:
            end = datetime.combine(form.cleaned_data["end"], time.min, tzinfo=tz) + timedelta(1)
    return form, start, end


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The quality desk: what this person has to do here (QA inspectors land here)."""
    user = request.user
    context = {
        "inspections": selectors.inspection_queue(viewer=user)[:50],
        "visits": selectors.visit_queue(viewer=user)[:50],
        "mine": selectors.inspections_of_agent(viewer=user)[:20],
        "appeals": selectors.appeals_to_decide(viewer=user)[:50],
        "nav": "quality",
    }
    return render(request, "feedback/home.html", context)


def _inspection_or_404(request: HttpRequest, inspection_id: int) -> Inspection:
    try:
        return selectors.inspection_get(viewer=request.user, inspection_id=inspection_id)
    except Inspection.DoesNotExist as exc:
        raise Http404 from exc


@login_required
def inspection(request: HttpRequest, inspection_id: int) -> HttpResponse:
    """Score an inspection, seeing the ticket's whole log read-only; or read a scored one."""
    found = _inspection_or_404(request, inspection_id)
    can_score = (
        request.user.has_perm("accounts.inspect_quality")
        and found.status == InspectionStatus.PENDING
        and found.agent_id != request.user.pk
    )
    form = forms.ScoreForm(request.POST or None, inspection=found) if can_score else None
    if request.method == "POST":
        if not can_score:
            raise PermissionDenied(_("This inspection cannot be scored."))
        if form.is_valid():
            ok, _i = run_service(
                request,
                lambda: services.inspection_score(
                    inspection_id=found.pk,
                    actor=request.user,
                    marks=form.marks(),
                    comment=form.cleaned_data["comment"],
                ),
                form=form,
            )
            if ok:
                messages.success(request, _("The inspection was scored."))
                return redirect("feedback:home")
    events = found.ticket.events.select_related("actor").order_by("id")
    context = {
        "inspection": found,
        "form": form,
        "entries": timeline_entries(events, viewer_is_staff=True),
        "marks": found.marks.select_related("item"),
        "appeal": getattr(found, "appeal", None),
        "appeal_form": forms.AppealForm() if found.agent_id == request.user.pk else None,
        "decision_form": forms.DecisionForm()
        if services.inspections.may_decide(found, request.user)
        else None,
        "nav": "quality",
    }
    return render(request, "feedback/inspection.html", context)


@login_required
@require_POST
def inspect_ticket(request: HttpRequest) -> HttpResponse:
    """On-demand inspection of any closed ticket the inspector can read (by its number)."""
    number = request.POST.get("number", "").strip()[:32]
    try:
        ticket = ticket_selectors.ticket_get(viewer=request.user, number=number)
    except Ticket.DoesNotExist as exc:
        raise Http404 from exc
    ok, found = run_service(
        request, lambda: services.inspection_request(ticket_id=ticket.pk, actor=request.user)
    )
    if ok:
        return redirect("feedback:inspection", inspection_id=found.pk)
    return redirect("feedback:home")


@login_required
@require_POST
def appeal(request: HttpRequest, inspection_id: int) -> HttpResponse:
    found = _inspection_or_404(request, inspection_id)
    form = forms.AppealForm(request.POST)
    if form.is_valid():
        ok, _a = run_service(
            request,
            lambda: services.inspection_appeal(
                inspection_id=found.pk, actor=request.user, reason=form.cleaned_data["reason"]
            ),
        )
        if ok:
            messages.success(request, _("Your appeal was sent to your lead."))
    else:
        messages.error(request, _("Give a reason."))
    return redirect("feedback:inspection", inspection_id=found.pk)


@login_required
@require_POST
def decide(request: HttpRequest, inspection_id: int) -> HttpResponse:
    found = _inspection_or_404(request, inspection_id)
    form = forms.DecisionForm(request.POST)
    if form.is_valid():
        ok, _a = run_service(
            request,
            lambda: services.appeal_decide(
                inspection_id=found.pk,
                actor=request.user,
                upheld=form.cleaned_data["upheld"],
                note=form.cleaned_data["note"],
                revised_score=form.cleaned_data["revised_score"],
            ),
        )
        if ok:
            messages.success(request, _("The appeal was decided."))
    else:
        messages.error(request, _("Choose a decision."))
    return redirect("feedback:inspection", inspection_id=found.pk)


@login_required
def visit(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The call form of a return visit."""
    try:
        found = selectors.visit_get(viewer=request.user, visit_id=visit_id)
    except ReturnVisit.DoesNotExist as exc:
        raise Http404 from exc
    form = forms.VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, _v = run_service(
            request,
            lambda: services.return_visit_record(
                visit_id=found.pk,
                actor=request.user,
                reached=data["reached"],
                satisfied=data["satisfied"],
                words=data["words"],
                follow_up=data["follow_up"],
            ),
            form=form,
        )
        if ok:
            messages.success(request, _("The return visit was recorded."))
            return redirect("feedback:home")
    return render(request, "feedback/visit.html", {"visit": found, "form": form, "nav": "quality"})


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    """Inspection scores and return visits per agent and team, and CSAT, in a period."""
    if not request.user.has_perm("accounts.view_reports"):
        raise PermissionDenied(_("You may not read reports."))
    form, start, end = _period(request)
    user = request.user
    context = {
        "form": form,
        "by_agent": selectors.inspection_scores(viewer=user, by="agent", start=start, end=end),
        "by_team": selectors.inspection_scores(viewer=user, by="team", start=start, end=end),
        "visits_by_team": selectors.visit_stats(viewer=user, by="team", start=start, end=end),
        "visits_by_agent": selectors.visit_stats(viewer=user, by="agent", start=start, end=end),
        "csat": selectors.csat(viewer=user, start=start, end=end),
        "nav": "quality",
    }
    return render(request, "feedback/stats.html", context)
