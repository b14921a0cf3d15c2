"""The agent workspace's pages.

Reads go through `tickets.selectors` (scoped to the viewer), writes through `tickets.services`.
The buttons of the ticket page come from `tickets.selectors.ticket_actions`, which reads the
state machine, so an agent sees exactly the actions they may take now. Queues paginate by
keyset (no OFFSET, no COUNT(*)) and cost a fixed number of queries whatever the page holds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.choices import Tier
from accounts.models import Team, User
from portal.attachments import attach_files
from routing.services import routing_correct
from servicedesk.ui import Sort, keyset_page, run_service
from sla.selectors import filter_queue, timer_badges
from tickets import selectors, services
from tickets.choices import Status
from tickets.models import Ticket
from tickets.timeline import timeline_entries
from tickets.permissions import team_ids_of

from . import forms
from .rendering import queue_rows

QUEUES = {
    "mine": gettext_lazy("My tickets"),
    "team": gettext_lazy("Team unassigned"),
    "triage": gettext_lazy("Manual triage"),
    "verify": gettext_lazy("To verify"),
    "at_risk": gettext_lazy("At risk"),
    "breached": gettext_lazy("Breached"),
    "all": gettext_lazy("All tickets"),
}
SORTS = {
    "newest": Sort("newest", gettext_lazy("Newest first"), None, id_descending=True),
    "oldest": Sort("oldest", gettext_lazy("Oldest first"), None, id_descending=False),
    "priority": Sort("priority", gettext_lazy("Priority"), "priority", id_descending=True),
}
PAGE_SIZE = 50

# The button of each action of `tickets.selectors.ticket_actions`.
ACTION_LABELS = {
    "route": gettext_lazy("Classify and route"),
    "take": gettext_lazy("Take"),
    "assign": gettext_lazy("Assign"),
    "dispatch": gettext_lazy("Dispatch"),
    "escalate": gettext_lazy("Escalate"),
    "suspend": gettext_lazy("Set pending"),
    "resume": gettext_lazy("Resume"),
    "resolve": gettext_lazy("Resolve"),
    "verify": gettext_lazy("Verify the fix"),
    "confirm": gettext_lazy("Confirm for the requester"),
    "reject": gettext_lazy("Reject for the requester"),
    "reopen": gettext_lazy("Reopen"),
    "cancel": gettext_lazy("Cancel"),
    "merge": gettext_lazy("Merge"),
    "priority": gettext_lazy("Change priority"),
}
# Actions whose button acts at once; the others open a small form first.
DIRECT_ACTIONS = {"take"}


def agent_required(view: Callable) -> Callable:
    """Agents work here; managers and inspectors may read (their actions are filtered anyway)."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not (user.has_perm("accounts.handle_tickets") or user.has_perm("accounts.view_reports")):
            raise PermissionDenied(_("The workspace is for the service desk's agents."))
        return view(request, *args, **kwargs)

    return wrapper


def _queue_filters(which: str, user: User, data: dict) -> selectors.TicketFilters:
    filters = selectors.TicketFilters(
        status=[data["status"]] if data.get("status") else [],
        priority=[data["priority"]] if data.get("priority") else [],
        request_type=[data["request_type"]] if data.get("request_type") else [],
        system=[data["system"]] if data.get("system") else [],
        team=[data["team"]] if data.get("team") else [],
        tier=[data["tier"]] if data.get("tier") else [],
        unit=data.get("unit") or None,
        q=data.get("q") or "",
    )
    if which == "mine":
        filters.assignee = user.pk
        filters.open_only = True
    elif which == "team":
        mine = sorted(team_ids_of(user))
        filters.team = [t for t in filters.team if t in mine] if filters.team else mine
        filters.team = filters.team or [0]  # no team: an empty queue, not every ticket
        # Queued means nobody has taken it yet; only other statuses need the assignee test
        # (which would also steer PostgreSQL away from the team's index).
        filters.status = filters.status or [Status.QUEUED]
        filters.unassigned = filters.status != [Status.QUEUED]
    elif which == "triage":
        filters.needs_triage = True
        filters.status = filters.status or [Status.NEW]
    elif which == "verify":
        filters.status = [Status.PENDING_VERIFICATION]
    elif which in ("at_risk", "breached"):
        filters.open_only = True
    return filters


@agent_required
def queue(request: HttpRequest, which: str = "mine") -> HttpResponse:
    if which not in QUEUES:
        raise Http404
    user = request.user
    teams = list(Team.objects.order_by("tier", "code"))
    form = forms.QueueFilterForm(request.GET or None, teams=teams)
    # A bad value (an unknown unit id, say) drops that filter only, never the page:
    # cleaned_data keeps the fields that were valid.
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    queryset = selectors.ticket_list(viewer=user, filters=_queue_filters(which, user, data))
    if which in ("at_risk", "breached"):
        queryset = filter_queue(queryset, which)
    sort = SORTS.get(data.get("sort") or "newest", SORTS["newest"])
    page = keyset_page(
        queryset,
        sort,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        size=PAGE_SIZE,
    )
    badges = timer_badges([t.pk for t in page.rows])
    for ticket in page.rows:
        # A queue shows the clocks that still matter; met ones are on the ticket page.
        ticket.badges = [b for b in badges.get(ticket.pk, []) if b.state != "met"][:2]
    can_bulk = user.has_perm("accounts.handle_tickets")
    ticket_url = reverse("workspace:ticket", args=["NUMBER"]).replace("NUMBER", "{}")
    my_team_ids = sorted(team_ids_of(user))
    members = (
        User.objects.filter(memberships__team_id__in=my_team_ids, is_active=True)
        .distinct()
        .order_by("display_name", "username")
    )
    context = {
        "which": which,
        "queue_title": QUEUES[which],
        "queues": QUEUES,
        "form": form,
        "page": page,
        "bulk_form": forms.BulkForm(members=members),
        "can_bulk": can_bulk,
        "rows_html": queue_rows(page.rows, ticket_url=ticket_url, can_bulk=can_bulk),
        "nav": which,
    }
    template = "workspace/_queue_table.html" if request.htmx else "workspace/queue.html"
    return render(request, template, context)


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    try:
        return selectors.ticket_get(viewer=request.user, number=number)
    except Ticket.DoesNotExist as exc:
        raise Http404(_("No such ticket.")) from exc


def _action_forms(ticket: Ticket, actions: list[str], bound: dict) -> dict:
    """One unbound form per action the agent may take (or the bound one that failed)."""
    makers = {
        "route": lambda: forms.RouteForm(
            initial={
                "request_type": ticket.request_type_id,
                "category": ticket.category_id,
                "system": ticket.system_id,
            }
        ),
        "assign": lambda: forms.AssignForm(ticket=ticket),
        "dispatch": lambda: forms.TeamReasonForm(
            ticket=ticket,
            initial={"team": ticket.system.owner_team_id if ticket.system else None},
        ),
        "escalate": lambda: forms.TeamReasonForm(
            ticket=ticket, initial={"team": ticket.team.escalates_to_id if ticket.team else None}
        ),
        "suspend": forms.SuspendForm,
        "resume": forms.NoteForm,
        "resolve": forms.ResolveForm,
        "verify": forms.VerifyForm,
        "confirm": forms.NoteForm,
        "reject": forms.ReasonForm,
        "reopen": forms.ReasonForm,
        "cancel": forms.ReasonForm,
        "merge": forms.MergeForm,
        "priority": lambda: forms.PriorityForm(initial={"priority": ticket.priority}),
    }
    return {name: bound.get(name) or makers[name]() for name in actions if name in makers}


def _render_ticket(
    request: HttpRequest, ticket: Ticket, *, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    staff = selectors.viewer_is_staff_on(ticket, user)
    actions = selectors.ticket_actions(ticket=ticket, viewer=user)
    events = selectors.ticket_timeline(viewer=user, ticket=ticket)
    other_tickets = (
        selectors.ticket_list(
            viewer=user, filters=selectors.TicketFilters(requester=ticket.requester_id)
        )
        .exclude(pk=ticket.pk)
        .select_related(None)
        .prefetch_related(None)
        .only("id", "number", "title", "status", "created_at")[:5]
    )
    action_forms = _action_forms(ticket, actions, bound or {})
    labels = dict(ACTION_LABELS)
    if ticket.tier == Tier.BACK:
        labels["resolve"] = _("Submit the fix for verification")
    context = {
        "ticket": ticket,
        "staff": staff,
        "actions": [
            (name, labels[name], action_forms.get(name), name in DIRECT_ACTIONS) for name in actions
        ],
        "open_action": next(iter(bound or {}), ""),
        "comments": selectors.ticket_comments(viewer=user, ticket=ticket),
        "entries": timeline_entries(events, viewer_is_staff=staff),
        "attachments": selectors.ticket_attachments(viewer=user, ticket=ticket),
        "badges": timer_badges([ticket.pk])[ticket.pk],
        "comment_form": (bound or {}).get("comment") or forms.CommentForm(),
        "can_comment": staff and user.has_perm("accounts.handle_tickets"),
        "other_tickets": other_tickets,
        "queues": QUEUES,
    }
    return render(request, "workspace/ticket.html", context, status=status)


@agent_required
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _render_ticket(request, _ticket_or_404(request, number))


def _after_action(request: HttpRequest, ticket: Ticket, done: str) -> HttpResponse:
    """Back to the ticket, or to the queue when the action took it out of the agent's sight."""
    messages.success(request, done)
    if selectors.visible_tickets(request.user).filter(pk=ticket.pk).exists():
        return redirect("workspace:ticket", number=ticket.number)
    return redirect("workspace:queue")


def _route(user: User, ticket: Ticket, data: dict) -> Ticket:
    """Manual triage through routing's correction service: the ticket is classified and
    routed, and the correction is kept as a training example that teaches the classifier."""
    return routing_correct(
        ticket_id=ticket.pk,
        actor=user,
        request_type=data["request_type"],
        category=data["category"],
        system=data["system"],
        team=data["team"],
    )


def _merge(user: User, ticket: Ticket, data: dict) -> Ticket:
    try:
        into = selectors.ticket_get(viewer=user, number=data["into"].strip())
    except Ticket.DoesNotExist as exc:
        raise ValidationError({"into": [_("No ticket you may see has this number.")]}) from exc
    return services.ticket_merge(ticket_id=ticket.pk, actor=user, into=into, reason=data["reason"])


# action → (form class or None, service call, success message)
def _handlers(user: User, ticket: Ticket) -> dict:
    tid = ticket.pk
    return {
        "take": (
            None,
            lambda d: services.ticket_take(ticket_id=tid, actor=user),
            _("You took %(number)s."),
        ),
        "assign": (
            lambda p: forms.AssignForm(p, ticket=ticket),
            lambda d: services.ticket_assign(
                ticket_id=tid, actor=user, assignee=d["assignee"], reason=d["reason"]
            ),
            _("%(number)s was assigned."),
        ),
        "route": (
            forms.RouteForm,
            lambda d: _route(user, ticket, d),
            _("%(number)s was classified and routed."),
        ),
        "dispatch": (
            lambda p: forms.TeamReasonForm(p, ticket=ticket),
            lambda d: services.ticket_dispatch(
                ticket_id=tid, actor=user, team=d["team"], reason=d["reason"]
            ),
            _("%(number)s was dispatched."),
        ),
        "escalate": (
            lambda p: forms.TeamReasonForm(p, ticket=ticket),
            lambda d: services.ticket_dispatch(
                ticket_id=tid, actor=user, team=d["team"], reason=d["reason"], escalation=True
            ),
            _("%(number)s was escalated."),
        ),
        "suspend": (
            forms.SuspendForm,
            lambda d: services.ticket_suspend(
                ticket_id=tid, actor=user, reason=d["reason"], note=d["note"]
            ),
            _("%(number)s is pending."),
        ),
        "resume": (
            forms.NoteForm,
            lambda d: services.ticket_resume(ticket_id=tid, actor=user, note=d["note"]),
            _("%(number)s is in progress again."),
        ),
        "resolve": (
            forms.ResolveForm,
            lambda d: services.ticket_resolve(
                ticket_id=tid, actor=user, resolution=d["resolution"]
            ),
            _("%(number)s was resolved."),
        ),
        "verify": (
            forms.VerifyForm,
            lambda d: services.ticket_verify(
                ticket_id=tid, actor=user, passed=d["passed"], note=d["note"]
            ),
            _("The verification of %(number)s was recorded."),
        ),
        "confirm": (
            forms.NoteForm,
            lambda d: services.ticket_confirm(ticket_id=tid, actor=user, note=d["note"]),
            _("%(number)s was confirmed and closed."),
        ),
        "reject": (
            forms.ReasonForm,
            lambda d: services.ticket_reject(ticket_id=tid, actor=user, reason=d["reason"]),
            _("%(number)s was reopened."),
        ),
        "reopen": (
            forms.ReasonForm,
            lambda d: services.ticket_reopen(ticket_id=tid, actor=user, reason=d["reason"]),
            _("%(number)s was reopened."),
        ),
        "cancel": (
            forms.ReasonForm,
            lambda d: services.ticket_cancel(ticket_id=tid, actor=user, reason=d["reason"]),
            _("%(number)s was cancelled."),
        ),
        "merge": (forms.MergeForm, lambda d: _merge(user, ticket, d), _("%(number)s was merged.")),
        "priority": (
            forms.PriorityForm,
            lambda d: services.ticket_set_priority(
                ticket_id=tid, actor=user, priority=d["priority"], reason=d["reason"]
            ),
            _("The priority of %(number)s was changed."),
        ),
    }


@agent_required
@require_POST
def ticket_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    handlers = _handlers(request.user, ticket)
    if action not in handlers:
        raise Http404
    form_class, call, done = handlers[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _render_ticket(request, ticket, bound={action: form}, status=400)
    data = form.cleaned_data if form is not None else {}
    ok, _result = run_service(request, lambda: call(data), form=form)
    if ok:
        return _after_action(request, ticket, done % {"number": ticket.number})
    if form is not None and form.errors:
        return _render_ticket(request, ticket, bound={action: form}, status=400)
    return redirect("workspace:ticket", number=ticket.number)


@agent_required
@require_POST
def ticket_comment(request: HttpRequest, number: str) -> HttpResponse:
    """A public reply or an internal note (with files); HTMX swaps the conversation only."""
    ticket = _ticket_or_404(request, number)
    form = forms.CommentForm(request.POST, request.FILES)
    ok = False
    if form.is_valid():
        data = form.cleaned_data
        ok, comment = run_service(
            request,
            lambda: services.comment_add(
                ticket_id=ticket.pk,
                actor=request.user,
                body=data["body"],
                is_internal=data["is_internal"],
            ),
            form=form,
        )
        if ok:
            attach_files(
                request,
                ticket,
                data["attachments"],
                comment=comment,
                is_internal=data["is_internal"],
            )
    if request.htmx:
        context = {
            "ticket": ticket,
            "comments": selectors.ticket_comments(viewer=request.user, ticket=ticket),
            "comment_form": forms.CommentForm() if ok else form,
            "can_comment": True,
        }
        return render(request, "workspace/_conversation.html", context)
    if not ok:
        return _render_ticket(request, ticket, bound={"comment": form}, status=400)
    messages.success(request, _("Saved."))
    return redirect("workspace:ticket", number=ticket.number)


@agent_required
def log_request(request: HttpRequest) -> HttpResponse:
    """Log a phone or IM request on the requester's behalf (the channel is recorded)."""
    if not request.user.has_perm("accounts.log_on_behalf"):
        raise PermissionDenied(_("You may not log requests on behalf of others."))
    form = forms.LogRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, result = run_service(
            request,
            lambda: services.ticket_create(
                requester=data["requester"],
                created_by=request.user,
                channel=data["channel"],
                title=data["title"],
                description=data["description"],
                system=data["system"],
                impact=data["impact"],
            ),
            form=form,
        )
        if ok:
            ticket, _created = result
            attach_files(request, ticket, data["attachments"])
            messages.success(
                request,
                _("%(number)s was logged for %(person)s.")
                % {"number": ticket.number, "person": data["requester"]},
            )
            if selectors.visible_tickets(request.user).filter(pk=ticket.pk).exists():
                return redirect("workspace:ticket", number=ticket.number)
            return redirect("workspace:queue")
    return render(request, "workspace/log_request.html", {"form": form, "nav": "log"})


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("workspace:queue")


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Take, assign, resolve or cancel the selected tickets, each through its service; one
    ticket refusing does not stop the others, and the agent is told which and why."""
    user = request.user
    members = User.objects.filter(memberships__team_id__in=sorted(team_ids_of(user))).distinct()
    form = forms.BulkForm(request.POST, members=members)
    if not form.is_valid():
        messages.error(request, _("Select tickets and an action."))
        return redirect(_safe_next(request))
    data = form.cleaned_data
    action, note = data["action"], data["note"]
    if action == "assign" and data["assignee"] is None:
        messages.error(request, _("Choose who to assign the tickets to."))
        return redirect(_safe_next(request))
    if action in ("resolve", "cancel") and not note.strip():
        messages.error(request, _("A note is required to resolve or cancel tickets."))
        return redirect(_safe_next(request))
    tickets = list(
        selectors.visible_tickets(user).filter(pk__in=data["ids"][:200]).only("id", "number")
    )
    calls = {
        "take": lambda t: services.ticket_take(ticket_id=t.pk, actor=user),
        "assign": lambda t: services.ticket_assign(
            ticket_id=t.pk, actor=user, assignee=data["assignee"], reason=note
        ),
        "resolve": lambda t: services.ticket_resolve(ticket_id=t.pk, actor=user, resolution=note),
        "cancel": lambda t: services.ticket_cancel(ticket_id=t.pk, actor=user, reason=note),
    }
    done, failed = 0, []
    for ticket in tickets:
        try:
            calls[action](ticket)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            failed.append(f"{ticket.number}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
        except services.IllegalTransition as exc:
            failed.append(f"{ticket.number}: {exc}")
        except services.ConcurrentModification as exc:
            failed.append(f"{ticket.number}: {exc}")
    if done:
        messages.success(request, _("%(count)d ticket(s) updated.") % {"count": done})
    for line in failed[:10]:
        messages.error(request, line)
    return redirect(_safe_next(request))
