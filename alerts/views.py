"""The workspace's alerts page: integrations and the latest alerts with their tickets."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "alerts/list.html",
        {
            "alerts": selectors.alert_list(viewer=request.user),
            "integrations": selectors.integration_list(viewer=request.user),
            "nav": "alerts",
        },
    )
