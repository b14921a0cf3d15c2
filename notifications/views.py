"""The in-app inbox and the bell in every header: the viewer's notifications, read in their
own language, marked read one by one or all at once (HTMX)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.services import user_preferences_update
from servicedesk.ui import run_service

from . import selectors, services
from .forms import ProfileForm


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox(viewer=request.user), 25).get_page(request.GET.get("page"))
    items = selectors.readable(page.object_list, language=get_language())
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "items": items, "unread": selectors.unread_count(viewer=request.user)},
    )


@login_required
def bell(request: HttpRequest) -> HttpResponse:
    """The header's bell with the unread count; pages load it after they render (HTMX), so it
    costs the page itself nothing, and it refreshes every 30 seconds."""
    return render(
        request,
        "notifications/_bell.html",
        {"unread": selectors.unread_count(viewer=request.user), "loaded": True},
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
        (item,) = selectors.readable([notification], language=get_language())
        response = render(request, "notifications/_item.html", {"item": item})
        response["HX-Trigger"] = "notifications-read"  # the bell refreshes its count
        return response
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.notification_mark_read(viewer=request.user)
    return redirect("notifications:inbox")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Language, time zone, and which messages arrive on which channel."""
    user = request.user
    kinds = services.kinds_for(user)
    current = services.notification_preferences(user=user)
    initial = {"language": user.language, "time_zone": user.time_zone}
    for kind, (inbox_on, email_on) in current.items():
        initial[f"{kind}:inbox"], initial[f"{kind}:email"] = inbox_on, email_on
    form = ProfileForm(request.POST or None, initial=initial, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        @transaction.atomic
        def save() -> None:
            user_preferences_update(
                user=user, language=data["language"], time_zone=data["time_zone"]
            )
            services.notification_preferences_set(
                user=user, choices={k: (data[f"{k}:inbox"], data[f"{k}:email"]) for k in kinds}
            )

        ok, _result = run_service(request, save, form=form)
        if ok:
            messages.success(request, _("Your settings were saved."))
            response = redirect("profile")
            if data["language"]:
                # The switcher's cookie follows the profile, so the next page speaks it.
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, data["language"])
            return response
    return render(request, "notifications/profile.html", {"form": form})
