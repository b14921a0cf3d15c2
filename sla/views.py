"""The manager dashboard's first numbers: SLA compliance and the breached and at-risk lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import select_template

from . import selectors
from .forms import PeriodForm

# The lists show the most urgent tickets; the full breached / at-risk queue is one link away.
LIST_LIMIT = 50


@login_required
@permission_required("accounts.view_reports", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Compliance per priority, team and tier for a period (default: the last 30 days)."""
    form = PeriodForm(request.GET or None, initial=PeriodForm.default_initial())
    period = PeriodForm.default_initial()
    if form.is_bound and form.is_valid():
        period = form.cleaned_data
    data = None
    if not form.is_bound or form.is_valid():
        data = selectors.sla_compliance(
            viewer=request.user,
            date_from=period["date_from"],
            date_to=period["date_to"],
            list_limit=LIST_LIMIT,
        )
    badges = {}
    if data is not None:
        badges = selectors.timer_badges([t.pk for t in [*data.breached, *data.at_risk]])
    return render(
        request,
        "sla/dashboard.html",
        {
            "base_template": select_template(["workspace/base.html", "base.html"]),
            "form": form,
            "data": data,
            "badges": badges,
        },
        status=200 if data is not None else 400,
    )
