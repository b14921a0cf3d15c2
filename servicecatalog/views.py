"""Pages of the service catalogue: the catalogue (portal), a service's form (the requester's,
and an agent's on someone's behalf), the data service catalogue, and the answers table an
agent's ticket page loads lazily (HTMX)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from servicedesk.ui import run_service
from tickets import selectors as ticket_selectors
from tickets.choices import Channel
from tickets.models import Ticket

from . import selectors
from .forms import CatalogueSearchForm, ServiceRequestForm
from .models import Service
from .services import service_request_submit


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    """Services by group, with a search box (HTMX updates the list as one types)."""
    form = CatalogueSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    context = {
        "groups": selectors.catalogue_groups(query=query),
        "query": query,
        "nav": "catalogue",
    }
    if request.htmx:
        return render(request, "servicecatalog/_services.html", context)
    return render(request, "servicecatalog/catalogue.html", context)


@login_required
def data_catalogue(request: HttpRequest) -> HttpResponse:
    """The data service catalogue (数据服务目录): dataset, owner team, how to ask, the form."""
    query = request.GET.get("q", "")[:100]
    services = selectors.services_offered(query=query, data_only=True)
    return render(
        request,
        "servicecatalog/data_catalogue.html",
        {"services": services, "query": query, "nav": "data"},
    )


def _service_or_404(code: str) -> Service:
    try:
        return selectors.service_get(code=code)
    except Service.DoesNotExist as exc:
        raise Http404(_("No such service.")) from exc


def _submit(request: HttpRequest, service: Service, *, on_behalf: bool):
    form = ServiceRequestForm(
        request.POST or None, request.FILES or None, service=service, on_behalf=on_behalf
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        requester = data["requester_user"] if on_behalf else request.user
        ok, result = run_service(
            request,
            lambda: service_request_submit(
                service=service,
                requester=requester,
                created_by=request.user,
                answers=form.answers(),
                impact=data.get("impact"),
                urgency=data.get("urgency"),
                channel=Channel.PHONE if on_behalf else Channel.PORTAL,
            ),
            form=form,
        )
        if ok:
            return form, result.ticket
    return form, None


@login_required
def service_form(request: HttpRequest, code: str) -> HttpResponse:
    """A requester fills a service's form; the request is created with the structured answers."""
    if not request.user.has_perm("accounts.submit_request"):
        raise PermissionDenied(_("You may not submit requests."))
    service = _service_or_404(code)
    form, ticket = _submit(request, service, on_behalf=False)
    if ticket is not None:
        messages.success(
            request,
            _("Your request %(number)s was received. You can follow it here.")
            % {"number": ticket.number},
        )
        return redirect("portal:request", number=ticket.number)
    return render(
        request,
        "servicecatalog/service_form.html",
        {"service": service, "form": form, "nav": "catalogue", "base": "portal/base.html"},
    )


@login_required
def service_form_on_behalf(request: HttpRequest, code: str) -> HttpResponse:
    """An agent logs a request through a service's form on someone's behalf (phone, IM)."""
    if not request.user.has_perm("accounts.log_on_behalf"):
        raise PermissionDenied(_("You may not log requests on behalf of others."))
    service = _service_or_404(code)
    form, ticket = _submit(request, service, on_behalf=True)
    if ticket is not None:
        messages.success(request, _("%(number)s was logged.") % {"number": ticket.number})
        if ticket_selectors.visible_tickets(request.user).filter(pk=ticket.pk).exists():
            return redirect("workspace:ticket", number=ticket.number)
        return redirect("workspace:queue")
    return render(
        request,
        "servicecatalog/service_form.html",
        {
            "service": service,
            "form": form,
            "on_behalf": True,
            "groups": selectors.catalogue_groups(),
            "base": "workspace/base.html",
        },
    )


@login_required
def agent_catalogue(request: HttpRequest) -> HttpResponse:
    """The catalogue for an agent logging a request on someone's behalf."""
    if not request.user.has_perm("accounts.log_on_behalf"):
        raise PermissionDenied(_("You may not log requests on behalf of others."))
    return render(
        request, "servicecatalog/agent_catalogue.html", {"groups": selectors.catalogue_groups()}
    )


@login_required
def ticket_answers(request: HttpRequest, number: str) -> HttpResponse:
    """The catalogue answers of a ticket as a table (the agent's ticket page loads it lazily).
    Scoped: a ticket the viewer may not see is a 404; requesters see their own answers."""
    try:
        ticket, service_request = selectors.service_request_for(
            viewer=request.user, ticket_number=number
        )
    except Ticket.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "servicecatalog/_answers.html",
        {"ticket": ticket, "service_request": service_request},
    )
