"""The in-app inbox: a list of the viewer's notifications, mark as read with HTMX."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox(viewer=request.user), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread": selectors.unread_count(viewer=request.user)},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        services.notification_mark_read(viewer=request.user, notification_id=notification_id)
    except PermissionDenied as exc:
        raise Http404 from exc  # someone else's notification: do not confirm it exists
    if request.htmx:
        notification = selectors.inbox(viewer=request.user).get(pk=notification_id)
        return render(request, "notifications/_item.html", {"notification": notification})
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.notification_mark_read(viewer=request.user)
    return redirect("notifications:inbox")
