"""Entry views: send each person to their side of the desk; a health check for deployments."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from . import health


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Agents (and those who read the desk's reports) land in the workspace, QA inspectors on
    their quality desk, everyone else on the portal."""
    user = request.user
    # QA inspectors land on their quality desk (inspections, return visits), not on empty queues.
    if not user.is_agent and user.has_role("qa_inspector"):
        return redirect("feedback:home")
    if user.is_agent or user.has_perm("accounts.view_reports"):
        return redirect("workspace:queue")
    return redirect("portal:home")


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers and every registered check (`servicedesk.health`) ran;
    503 when one of the checks failed. The checks' values are in `details`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    healthy, details = health.run_checks()
    if not details:
        return JsonResponse({"status": "ok"})
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "details": details},
        status=200 if healthy else 503,
    )
