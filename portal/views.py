"""The requester portal's pages. Reads through `tickets.selectors` (scoped to the viewer: another
requester's ticket is a 404), writes through `tickets.services` and `portal.services`; the
requester's answers (confirm, reject, withdraw, reopen) are actions of `tickets.actions`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from servicedesk.ui import Sort, keyset_page, run_service
from sla.choices import Metric
from sla.selectors import timer_badges
from tickets import actions as catalogue
from tickets import selectors, services
from tickets.choices import OPEN_STATUSES, Channel, PendingReason, Status
from tickets.models import Ticket
from tickets.permissions import is_requester
from tickets.timeline import requester_milestones, timeline_entries
from tickets.views import attach_files

from . import forms
from .selectors import announcements_current, rating_for
from .services import ticket_rate

NEWEST = Sort("newest", gettext_lazy("Newest first"), None)
TABS = {
    "open": (gettext_lazy("Open"), [*OPEN_STATUSES, Status.RESOLVED]),
    "closed": (gettext_lazy("Closed"), [Status.CLOSED, Status.CANCELLED]),
    "all": (gettext_lazy("All"), []),
}

# The stages a requester sees on the progress bar, and which statuses belong to each.
STAGES = [
    (gettext_lazy("Submitted"), {Status.NEW}),
    (gettext_lazy("Accepted"), {Status.QUEUED}),
    (gettext_lazy("Being handled"), {Status.IN_PROGRESS, Status.PENDING}),
    (gettext_lazy("Verifying the fix"), {Status.PENDING_VERIFICATION}),
    (gettext_lazy("Your confirmation"), {Status.RESOLVED}),
    (gettext_lazy("Closed"), {Status.CLOSED}),
]


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    try:
        return selectors.ticket_get(viewer=request.user, number=number)
    except Ticket.DoesNotExist as exc:
        raise Http404(_("No such request.")) from exc


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Announcements, the way in to a new request, and my requests with their status."""
    tab = request.GET.get("tab", "open")
    if tab not in TABS:
        tab = "open"
    filters = selectors.TicketFilters(requester=request.user.pk, status=TABS[tab][1])
    page = keyset_page(
        selectors.ticket_list(viewer=request.user, filters=filters),
        NEWEST,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        size=20,
    )
    context = {
        "page": page,
        "tab": tab,
        "tabs": [(key, label) for key, (label, _statuses) in TABS.items()],
        "announcements": announcements_current(),
        "can_submit": request.user.has_perm("accounts.submit_request"),
        "nav": "requests",
    }
    template = "portal/_request_list.html" if request.htmx else "portal/home.html"
    return render(request, template, context)


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.submit_request"):
        raise PermissionDenied(_("You may not submit requests."))
    form = forms.RequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, result = run_service(
            request,
            lambda: services.ticket_create(
                requester=request.user,
                created_by=request.user,
                channel=Channel.PORTAL,
                title=data["title"],
                description=data["description"],
                system=data["system"],
                module=data["module"],
                # The form's own token makes a double submit idempotent (as the API's
                # Idempotency-Key), per requester.
                external_source="portal-form" if data["form_token"] else "",
                external_ref=f"{request.user.pk}:{data['form_token']}"
                if data["form_token"]
                else "",
            ),
            form=form,
        )
        if ok:
            ticket, created = result
            if created:
                attach_files(request, ticket, data["attachments"])
            messages.success(
                request,
                _("Your request %(number)s was received. You can follow it here.")
                % {"number": ticket.number},
            )
            return redirect("portal:request", number=ticket.number)
    return render(
        request,
        "portal/request_new.html",
        {"form": form, "announcements": announcements_current(), "nav": "new"},
    )


@login_required
def request_detail(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    staff = selectors.viewer_is_staff_on(ticket, request.user)
    events = selectors.ticket_timeline(viewer=request.user, ticket=ticket)
    allowed = set(catalogue.available(ticket=ticket, viewer=request.user))
    mine = is_requester(ticket, request.user)
    stage_index = next(
        (i for i, (_label, statuses) in enumerate(STAGES) if ticket.status in statuses), None
    )
    attachments = selectors.ticket_attachments(viewer=request.user, ticket=ticket)
    context = {
        "ticket": ticket,
        # The requester sees milestones in plain words; desk staff reading the portal page
        # see the whole log.
        "entries": (
            timeline_entries(events, viewer_is_staff=True)
            if staff
            else requester_milestones(events)
        ),
        "stages": [label for label, _statuses in STAGES],
        "stage_index": stage_index,
        "attachments": attachments,
        "waiting_on_me": ticket.status == Status.PENDING
        and ticket.pending_reason == PendingReason.REQUESTER,
        "can_reply": mine and ticket.status not in (Status.CLOSED, Status.CANCELLED),
        "can_confirm": mine and "confirm" in allowed,
        "can_reject": mine and "reject" in allowed,
        "can_withdraw": mine and "cancel" in allowed,
        "can_reopen": mine and "reopen" in allowed,
        "rating": rating_for(ticket_id=ticket.pk) if ticket.status == Status.CLOSED else None,
        "can_rate": mine and ticket.status == Status.CLOSED,
        "reply_form": forms.ReplyForm(),
        "reason_form": forms.ReasonForm(),
        "note_form": forms.OptionalNoteForm(),
        "rate_form": forms.RateForm(),
        "announcements": announcements_current(),
        # The requester's one promise is the resolution clock: the same badge as the desk's.
        "badges": [
            badge
            for badge in timer_badges([ticket.pk])[ticket.pk]
            if badge.metric == Metric.RESOLUTION and badge.state != "met"
        ]
        if ticket.status in OPEN_STATUSES
        else [],
    }
    if request.htmx and request.htmx.target == "timeline":
        return render(request, "portal/_timeline.html", context)
    return render(request, "portal/request_detail.html", context)


def _back(ticket: Ticket) -> HttpResponse:
    return redirect("portal:request", number=ticket.number)


def _form_errors(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
@require_POST
def request_reply(request: HttpRequest, number: str) -> HttpResponse:
    """A public reply; when the desk waits on the requester, it also resumes the ticket."""
    ticket = _ticket_or_404(request, number)
    form = forms.ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(ticket)
    ok, comment = run_service(
        request,
        lambda: services.comment_add(
            ticket_id=ticket.pk, actor=request.user, body=form.cleaned_data["body"]
        ),
    )
    if ok:
        attach_files(request, ticket, form.cleaned_data["attachments"], comment=comment)
        messages.success(request, _("Your message was sent to the service desk."))
    return _back(ticket)


def _answer(
    request: HttpRequest, number: str, *, action: str, done: str, missing: str | None = None
):
    """The requester's one-form answers (confirm, reject, withdraw, reopen): read the text,
    run the catalogue's action (`tickets.actions`) as this requester, say how it went in the
    requester's words, go back to the request.

    With `missing` the text is a required reason (`ReasonForm`), otherwise an optional note;
    it is the action's text input.
    """
    ticket = _ticket_or_404(request, number)
    ticket_action = catalogue.BY_NAME[action]
    if missing is not None:
        form = forms.ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, missing)
            return _back(ticket)
        text = form.cleaned_data["reason"]
    else:
        form = forms.OptionalNoteForm(request.POST)
        text = form.cleaned_data["note"] if form.is_valid() else ""
    data = {ticket_action.text_field: text}
    ok, _t = run_service(request, lambda: ticket_action.perform(ticket, request.user, data))
    if ok:
        messages.success(request, done)
    return _back(ticket)


@login_required
@require_POST
def request_confirm(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(request, number, action="confirm", done=_("Thank you: the request is closed."))


@login_required
@require_POST
def request_reject(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(
        request,
        number,
        action="reject",
        missing=_("Tell the desk what is still wrong."),
        done=_("The request was reopened; the desk is on it again."),
    )


@login_required
@require_POST
def request_withdraw(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(request, number, action="cancel", done=_("The request was withdrawn."))


@login_required
@require_POST
def request_reopen(request: HttpRequest, number: str) -> HttpResponse:
    return _answer(
        request,
        number,
        action="reopen",
        missing=_("Tell the desk why the request needs reopening."),
        done=_("The request was reopened."),
    )


@login_required
@require_POST
def request_rate(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    form = forms.RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a score from 1 to 5."))
        return _back(ticket)
    ok, _r = run_service(
        request,
        lambda: ticket_rate(
            ticket_id=ticket.pk,
            actor=request.user,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        ),
    )
    if ok:
        messages.success(request, _("Thank you for your feedback."))
    return _back(ticket)
