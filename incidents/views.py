"""Incident pages (workspace, `manage_incidents`), the portal's "I am affected too" and the
status page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from servicedesk.ui import run_service
from tickets.models import Ticket

from . import selectors, services
from .forms import (
    AffectedForm,
    AnnounceForm,
    DeclareForm,
    LinkForm,
    RecoverForm,
    TwoLanguageTextForm,
)


def _detail(request: HttpRequest, incident, **forms) -> HttpResponse:
    query = request.GET.get("q", "")
    context = {
        "incident": incident,
        "linked": selectors.linked_tickets(viewer=request.user, incident=incident),
        "counts": selectors.linked_counts(incident=incident),
        "suggestions": selectors.suggestions(viewer=request.user, incident=incident, query=query)
        if incident.is_active
        else [],
        "query": query,
        "update_form": forms.get("update_form") or TwoLanguageTextForm(),
        "announce_form": forms.get("announce_form")
        or AnnounceForm(
            initial={
                "title_zh": incident.title_zh,
                "title_en": incident.title_en,
            }
        ),
        "recover_form": forms.get("recover_form") or RecoverForm(),
        "nav": "incidents",
    }
    return render(request, "incidents/detail.html", context)


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = selectors.incident_list(viewer=request.user)
    return render(request, "incidents/list.html", {"incidents": incidents, "nav": "incidents"})


@login_required
def incident_declare(request: HttpRequest) -> HttpResponse:
    if not selectors.can_manage(request.user):
        raise PermissionDenied
    initial = {"ticket": request.GET.get("ticket", "")}
    source = Ticket.objects.filter(number=initial["ticket"]).first() if initial["ticket"] else None
    if source is not None:
        initial.update(
            title_zh=source.title, systems=[source.system_id] if source.system_id else []
        )
    form = DeclareForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        from_ticket = None
        if data["ticket"]:
            from_ticket = Ticket.objects.filter(number=data["ticket"].strip()).first()
            if from_ticket is None:
                form.add_error("ticket", _("No ticket has this number."))
        if not form.errors:
            ok, incident = run_service(
                request,
                lambda: services.incident_declare(
                    actor=request.user,
                    title_zh=data["title_zh"],
                    title_en=data["title_en"],
                    description=data["description"],
                    systems=data["systems"],
                    modules=data["modules"],
                    impact=data["impact"],
                    service_state=data["service_state"],
                    lead=data["lead"],
                    from_ticket=from_ticket,
                ),
                form=form,
            )
            if ok:
                messages.success(request, _("Major incident declared."))
                return redirect("incidents:detail", incident_id=incident.pk)
    return render(request, "incidents/declare.html", {"form": form, "nav": "incidents"})


@login_required
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.incident_get(viewer=request.user, incident_id=incident_id)
    return _detail(request, incident)


def _back(incident_id: int) -> HttpResponse:
    return redirect("incidents:detail", incident_id=incident_id)


@login_required
@require_POST
def incident_link(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.incident_get(viewer=request.user, incident_id=incident_id)
    ids = request.POST.getlist("tickets")
    form = LinkForm(request.POST, choices=[i for i in ids if i.isdigit()])
    if not form.is_valid():
        messages.error(request, _("Choose the tickets to link."))
        return _back(incident.pk)
    ok, linked = run_service(
        request,
        lambda: services.incident_link_tickets(
            actor=request.user, incident_id=incident.pk, ticket_ids=form.cleaned_data["tickets"]
        ),
    )
    if ok:
        messages.success(request, _("%(n)d tickets linked.") % {"n": len(linked)})
    return _back(incident.pk)


@login_required
@require_POST
def incident_update(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.incident_get(viewer=request.user, incident_id=incident_id)
    form = TwoLanguageTextForm(request.POST)
    if form.is_valid():
        ok, update = run_service(
            request,
            lambda: services.incident_post_update(
                actor=request.user, incident_id=incident.pk, **form.cleaned_data
            ),
            form=form,
        )
        if ok:
            messages.success(
                request, _("Update posted to %(n)d requesters.") % {"n": update.notified}
            )
            return _back(incident.pk)
    return _detail(request, incident, update_form=form)


@login_required
@require_POST
def incident_announce(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.incident_get(viewer=request.user, incident_id=incident_id)
    form = AnnounceForm(request.POST)
    if form.is_valid():
        ok, _published = run_service(
            request,
            lambda: services.incident_announce_outage(
                actor=request.user, incident_id=incident.pk, **form.cleaned_data
            ),
            form=form,
        )
        if ok:
            messages.success(request, _("Outage announcement published."))
            return _back(incident.pk)
    return _detail(request, incident, announce_form=form)


@login_required
@require_POST
def incident_recover(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.incident_get(viewer=request.user, incident_id=incident_id)
    form = RecoverForm(request.POST)
    if form.is_valid():
        ok, result = run_service(
            request,
            lambda: services.incident_recover(
                actor=request.user, incident_id=incident.pk, **form.cleaned_data
            ),
            form=form,
        )
        if ok:
            messages.success(
                request,
                _("Recovery announced; %(n)d linked tickets resolved.") % {"n": result[1]},
            )
            return _back(incident.pk)
    return _detail(request, incident, recover_form=form)


# --- portal -----------------------------------------------------------------------------------


@login_required
def portal_outages(request: HttpRequest) -> HttpResponse:
    """The new-request form asks (HTMX, on choosing a system) whether it has an outage."""
    system = request.GET.get("system", "")
    outages = selectors.active_outages_for_system(system_id=int(system)) if system.isdigit() else []
    return render(request, "incidents/_portal_outages.html", {"outages": outages})


@login_required
def portal_affected(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.outage_for_requester(incident_id=incident_id)
    if incident is None:
        raise Http404
    form = AffectedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok, result = run_service(
            request,
            lambda: services.incident_report_affected(
                requester=request.user,
                incident_id=incident.pk,
                description=form.cleaned_data["description"],
            ),
            form=form,
        )
        if ok:
            ticket, _created = result
            messages.success(
                request,
                _("Thank you: your request %(number)s is linked to the announced fault; you will "
                  "be told when it is fixed.") % {"number": ticket.number},
            )  # fmt: skip
            return redirect("portal:request", number=ticket.number)
    return render(
        request,
        "incidents/portal_affected.html",
        {"incident": incident, "form": form, "nav": "new"},
    )


# --- status page ------------------------------------------------------------------------------


def status_page(request: HttpRequest) -> HttpResponse:
    if not selectors.status_page_public() and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    systems, incidents = selectors.status_page()
    return render(request, "incidents/status.html", {"systems": systems, "incidents": incidents})
