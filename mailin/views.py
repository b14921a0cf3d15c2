"""The e-mail channel page of the workspace (administrators of the desk): each mailbox's state
and counters, the quarantine with retry and discard; and a ticket's source message (.eml) for
the agents working on it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tickets.models import Ticket

from . import selectors, services
from .forms import QuarantineActionForm
from .models import InboundMessage


@login_required
def channel(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.configure_desk"):
        raise PermissionDenied
    if request.method == "POST":
        form = QuarantineActionForm(request.POST)
        if form.is_valid():
            service = (
                services.quarantine_retry
                if form.cleaned_data["action"] == "retry"
                else services.quarantine_discard
            )
            pk = form.cleaned_data["message"]
            if not InboundMessage.objects.filter(pk=pk).exists():
                raise Http404
            try:
                row = service(message_pk=pk, actor=request.user)
                messages.success(
                    request,
                    _("Message %(id)s: %(outcome)s.")
                    % {"id": pk, "outcome": row.get_outcome_display()},
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            return redirect("mailin:channel")
        messages.error(request, _("Choose a message and an action."))
    return render(
        request,
        "mailin/channel.html",
        {
            "nav": "mail",
            "mailboxes": selectors.mailbox_list(viewer=request.user),
            "quarantine": selectors.quarantine_list(viewer=request.user).order_by("-id")[:100],
        },
    )


@login_required
def source(request: HttpRequest, message_pk: int) -> HttpResponse:
    """The raw message as it arrived, for audit: only agents who work on its ticket."""
    row = InboundMessage.objects.select_related("ticket").filter(pk=message_pk).first()
    ticket: Ticket | None = row.ticket if row else None
    if (
        ticket is None
        or not selectors.ticket_source(viewer=request.user, ticket=ticket)
        .filter(pk=message_pk)
        .exists()
    ):
        raise Http404
    response = HttpResponse(bytes(row.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="{ticket.number}-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
