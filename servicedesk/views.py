"""Entry views: send each person to their side of the desk; a health check for deployments."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Agents land in the workspace, everyone else on the portal (once those exist)."""
    user = request.user
    target = (
        "workspace:queue"
        if user.is_agent or user.has_perm("accounts.view_reports")
        else ("portal:home")
    )
    try:
        return redirect(reverse(target))
    except NoReverseMatch:
        return render(request, "home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
