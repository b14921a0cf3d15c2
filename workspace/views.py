"""The agent workspace's pages.

Reads go through `tickets.selectors` (scoped to the viewer), writes through `tickets.services`.
The ticket page's buttons, their forms and what they call, and the bulk actions, come from the
catalogue `tickets.actions`, which reads the state machine, so an agent sees exactly the
actions they may take now. Queues paginate by
keyset (no OFFSET, no COUNT(*)) and cost a fixed number of queries whatever the page holds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from mailin.templatetags.mailin import mail_sources
from routing.services import routing_correct
from servicedesk.ui import Sort, keyset_page, run_service
from sla.selectors import filter_queue, timer_badges
from tickets import actions as catalogue
from tickets import selectors, services
from tickets.choices import Channel, Status
from tickets.exceptions import ConcurrentModification, TicketError
from tickets.models import Ticket
from tickets.permissions import team_ids_of, works_on
from tickets.views import attach_files

from . import forms
from .reference import options_html, reference_labels
from .rendering import (
    badges_html,
    comments_html,
    history_html,
    queue_rows,
    ticket_actions_html,
    ticket_aside_html,
    ticket_header_html,
)

QUEUES = {
    "mine": gettext_lazy("My tickets"),
    "team": gettext_lazy("Team unassigned"),
    "triage": gettext_lazy("Manual triage"),
    "verify": gettext_lazy("To verify"),
    "at_risk": gettext_lazy("At risk"),
    "breached": gettext_lazy("Breached"),
    "following": gettext_lazy("Following"),
    "all": gettext_lazy("All tickets"),
}
SORTS = {
    "newest": Sort("newest", gettext_lazy("Newest first"), None, id_descending=True),
    "oldest": Sort("oldest", gettext_lazy("Oldest first"), None, id_descending=False),
    "priority": Sort("priority", gettext_lazy("Priority"), "priority", id_descending=True),
}
PAGE_SIZE = 50
OTHER_TICKETS = 5  # the requester's other tickets the ticket page lists


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
    elif which == "following":
        filters.following = user.pk
    elif which in ("at_risk", "breached"):
        filters.open_only = True
    return filters


@agent_required
def queue(request: HttpRequest, which: str = "mine") -> HttpResponse:
    if which not in QUEUES:
        raise Http404
    user = request.user
    # The viewer's teams and units in one statement (the queue and its scope both use them).
    selectors.load_viewer_scope(user)
    labels = reference_labels()
    form = forms.QueueFilterForm(request.GET or None, labels=labels)
    # A bad value (an unknown unit id, say) drops that filter only, never the page:
    # cleaned_data keeps the fields that were valid.
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    # No relations: the page's rows are read by `ticket_rows`, after the ids.
    queryset = selectors.ticket_list(
        viewer=user, filters=_queue_filters(which, user, data), relations=False
    )
    if which in ("at_risk", "breached"):
        queryset = filter_queue(queryset, which)
    sort = SORTS.get(data.get("sort") or "newest", SORTS["newest"])
    page = keyset_page(
        queryset,
        sort,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        size=PAGE_SIZE,
        fetch=selectors.ticket_rows,
    )
    badges = timer_badges([t.pk for t in page.rows])
    for ticket in page.rows:
        # A queue shows the clocks that still matter; met ones are on the ticket page.
        ticket.badges = [b for b in badges.get(ticket.pk, []) if b.state != "met"][:2]
    can_bulk = user.has_perm("accounts.handle_tickets")
    ticket_url = reverse("workspace:ticket", args=["NUMBER"]).replace("NUMBER", "{}")
    context = {
        "which": which,
        "queue_title": QUEUES[which],
        "queues": QUEUES,
        "form": form,
        "page": page,
        "can_bulk": can_bulk,
        "rows_html": queue_rows(page.rows, labels=labels, ticket_url=ticket_url, can_bulk=can_bulk),
        "nav": which,
    }
    if can_bulk and page.rows:
        # Only the bulk bar (shown when there are rows to act on) lists the team's members.
        context["bulk_actions"] = forms.BULK_ACTIONS
        context["assignee_options"] = mark_safe(  # noqa: S308  # nosec B308 B703
            # Safe: options_html escapes every value and label.
            options_html(
                [
                    ("", forms.BulkForm.base_fields["assignee"].empty_label),
                    *selectors.team_members(team_ids_of(user)),
                ],
                set(),
            )
        )
    template = "workspace/_queue_table.html" if request.htmx else "workspace/queue.html"
    return render(request, template, context)


def _ticket_or_404(request: HttpRequest, number: str, *, for_page: bool = False) -> Ticket:
    """The ticket of the URL; `for_page`: with what its page shows besides (whether the viewer
    follows it, the requester's other tickets), in the same statement."""
    try:
        return selectors.ticket_get(
            viewer=request.user,
            number=number,
            with_following=for_page,
            with_other_tickets=OTHER_TICKETS if for_page else 0,
        )
    except Ticket.DoesNotExist as exc:
        raise Http404(_("No such ticket.")) from exc


def _route(user: User, ticket: Ticket, data: dict) -> Ticket:
    """Manual triage through routing's correction service: the ticket is classified and
    routed, and the correction is kept as a training example that teaches the classifier."""
    return routing_correct(
        ticket_id=ticket.pk,
        actor=user,
        request_type=data["request_type"],
        category=data["category"],
        system=data["system"],
        module=data.get("module"),
        team=data["team"],
    )


# The workspace runs `route` as manual triage through routing's correction service (it also
# teaches the classifier). The ticket core cannot call routing, so this one action's form and
# call are specialised here: action → (form factory(ticket, data or None), call(user, ticket,
# data)). Every other action is taken from the catalogue as it is.
SPECIALISED = {
    "route": (
        lambda ticket, data: (
            forms.RouteForm(data)
            if data is not None
            else forms.RouteForm(
                initial={
                    "request_type": ticket.request_type_id,
                    "category": ticket.category_id,
                    "system": ticket.system_id,
                    "module": ticket.module_id,
                }
            )
        ),
        _route,
    ),
}


def _make_form(action: catalogue.TicketAction, ticket: Ticket, data=None):
    if action.name in SPECIALISED:
        return SPECIALISED[action.name][0](ticket, data)
    return action.make_form(ticket, data)


def _render_ticket(
    request: HttpRequest, ticket: Ticket, *, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    staff = selectors.viewer_is_staff_on(ticket, user)
    offered = [catalogue.BY_NAME[name] for name in catalogue.available(ticket=ticket, viewer=user)]
    # The people of the log and the conversation are nearly always these: named without a join.
    people = (ticket.requester, ticket.assignee, user)
    events, comments, attachments = selectors.ticket_page_reads(viewer=user, ticket=ticket)
    selectors.attach_known_people(events, "actor", people)
    selectors.attach_known_people(comments, "author", people)
    bound = bound or {}
    act_url = reverse("workspace:act", args=[ticket.number, "ACTION"])
    known = [o for o in (ticket.team, ticket.assignee, ticket.requester, user) if o]
    context = {
        "ticket": ticket,
        # Every action form sends the version it was rendered from: acting on a page someone
        # else's change has made stale is refused (decision 0003).
        "version": services.ticket_etag(ticket),
        "staff": staff,
        # (name, button label, form, direct, its URL). Only the form of the action the agent
        # has open (sent back with errors, refused as stale, or the no-JS page of one action)
        # is built here; the others are fetched when opened (`ticket_act`'s GET), with the
        # version of this page. Building every form on every view was the page's largest cost.
        "actions": [
            (
                action.name,
                action.label_for(ticket),
                None if action.direct else bound.get(action.name),
                action.direct,
                act_url.replace("ACTION", action.name),
            )
            for action in offered
        ],
        "open_action": next(iter(bound), ""),
        "comments_html": comments_html(comments, ticket),
        "history_count": len(events),
        "history_html": history_html(events, viewer_is_staff=staff, known=known),
        "attachments": attachments,  # who uploaded a file is not shown here
        "badges_html": badges_html(timer_badges([ticket.pk])[ticket.pk]),
        "comment_form": bound.get("comment") or forms.CommentForm(),
        "can_comment": staff and user.has_perm("accounts.handle_tickets"),
        # Agents who see the ticket without working on it write internal notes only.
        "can_reply_publicly": works_on(ticket, user),
        "following": selectors.viewer_follows(ticket, user),
        # The requester's latest other tickets the viewer may see (no relations are shown).
        "other_tickets": selectors.requester_other_tickets(
            viewer=user, ticket=ticket, limit=OTHER_TICKETS
        ),
        "queues": QUEUES,
    }
    # The header, the actions and the side panel are built in Python (workspace.rendering):
    # the template engine was most of what the page still cost.
    # The page's forms and the template's `{% csrf_token %}` share one masked token (Django
    # masks it afresh for every `get_token`: random bytes each time).
    csrf_token = context["csrf_token"] = get_token(request)
    context["header_html"] = mark_safe(  # noqa: S308  # nosec B308 B703 - built escaped
        ticket_header_html(
            ticket,
            viewer=user,
            badges=context["badges_html"],
            following=context["following"],
            csrf_token=csrf_token,
        )
    )

    def form_html(name, label, form, url) -> str:
        action_context = {"name": name, "label": label, "form": form, "url": url}
        return render_to_string(
            "workspace/_action_form.html",
            {**action_context, "version": context["version"]},
            request,
        )

    context["actions_html"] = mark_safe(  # noqa: S308  # nosec B308 B703 - built escaped
        ticket_actions_html(
            context["actions"],
            version=context["version"],
            open_action=context["open_action"],
            csrf_token=csrf_token,
            form_html=form_html,
        )
    )
    sources = ""
    if ticket.channel == Channel.EMAIL:  # the messages it came from, for those who work on it
        sources = render_to_string(
            "mailin/_sources.html", mail_sources({"request": request}, ticket), request
        )
    context["aside_html"] = mark_safe(  # noqa: S308  # nosec B308 B703 - built escaped
        ticket_aside_html(
            ticket,
            other_tickets=context["other_tickets"],
            attachments=context["attachments"],
            mail_sources=sources,
        )
    )
    return render(request, "workspace/ticket.html", context, status=status)


@agent_required
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _render_ticket(request, _ticket_or_404(request, number, for_page=True))


def _after_action(request: HttpRequest, ticket: Ticket, done: str) -> HttpResponse:
    """Back to the ticket, or to the queue when the action took it out of the agent's sight."""
    if done:
        messages.success(request, done)
    if selectors.visible_tickets(request.user).filter(pk=ticket.pk).exists():
        return redirect("workspace:ticket", number=ticket.number)
    return redirect("workspace:queue")


def _action_form(
    request: HttpRequest, ticket: Ticket, ticket_action: catalogue.TicketAction
) -> HttpResponse:
    """GET of an action: its form. HTMX asks for it when the agent opens the action on the
    ticket page and gets the form alone, carrying the version of the page it was opened on
    (`?version=`), so acting on a page someone else's change made stale is still refused.
    Without JavaScript the action's button is a link here: the ticket page with that form open."""
    offered = ticket_action.name in catalogue.available(ticket=ticket, viewer=request.user)
    if not request.htmx:
        if ticket_action.direct or not offered:
            messages.error(request, str(ConcurrentModification()))
            response = redirect("workspace:ticket", number=ticket.number)
        else:
            form = _make_form(ticket_action, ticket)
            response = _render_ticket(request, ticket, bound={ticket_action.name: form})
    elif ticket_action.direct or not offered:
        # The ticket changed since the page was shown: this action is no longer offered.
        response = render(
            request, "workspace/_action_gone.html", {"message": ConcurrentModification()}
        )
    else:
        response = render(
            request,
            "workspace/_action_form.html",
            {
                "name": ticket_action.name,
                "label": ticket_action.label_for(ticket),
                "form": _make_form(ticket_action, ticket),
                "url": request.path,
                "version": request.GET.get("version") or services.ticket_etag(ticket),
            },
        )
    patch_vary_headers(response, ["HX-Request"])
    return response


@agent_required
@require_http_methods(["GET", "POST"])
def ticket_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Run one catalogue action: its form (none for a direct action), its service, its
    success message; a refusal is shown on the ticket page, nothing half done. A GET shows
    the action's form (`_action_form`)."""
    ticket = _ticket_or_404(request, number)
    ticket_action = catalogue.get(action)
    if ticket_action is None:
        raise Http404
    if request.method == "GET":
        return _action_form(request, ticket, ticket_action)
    form = None if ticket_action.direct else _make_form(ticket_action, ticket, request.POST)
    if form is not None and not form.is_valid():
        return _render_ticket(request, ticket, bound={action: form}, status=400)
    data = form.cleaned_data if form is not None else {}
    done = ticket_action.done_for(ticket)
    specialised = SPECIALISED[action][1] if action in SPECIALISED else None
    stale: list[str] = []

    def call():
        try:
            return catalogue.perform_on_version(
                ticket_action,
                ticket=ticket,
                actor=request.user,
                data=data,
                version=request.POST.get("version", ""),
                perform=(lambda t, user, d: specialised(user, t, d)) if specialised else None,
            )
        except ConcurrentModification as exc:
            stale.append(str(exc))  # shown with the form, not as a message of its own
            return None

    ok, _result = run_service(request, call, form=form)
    if stale:
        return _stale(request, ticket, ticket_action, stale[0])
    if ok:
        return _after_action(request, ticket, done)
    if form is not None and form.errors:
        return _render_ticket(request, ticket, bound={action: form}, status=400)
    return redirect("workspace:ticket", number=ticket.number)


def _stale(
    request: HttpRequest, ticket: Ticket, ticket_action: catalogue.TicketAction, message: str
) -> HttpResponse:
    """The page was stale: nothing was done. Show the ticket as it is now; the agent's input
    stays in its form (bound to the current version, so sending it again is a decision made on
    what they now see), the message above it, or on top of the page when the action is no
    longer offered."""
    try:
        current = selectors.ticket_get(viewer=request.user, ticket_id=ticket.pk)
    except Ticket.DoesNotExist:
        messages.error(request, message)
        return redirect("workspace:queue")
    offered = ticket_action.name in catalogue.available(ticket=current, viewer=request.user)
    if ticket_action.direct or not offered:
        messages.error(request, message)
        return _render_ticket(request, current, status=409)
    data = request.POST.copy()
    data["version"] = services.ticket_etag(current)
    form = _make_form(ticket_action, current, data)
    form.is_valid()
    form.add_error(None, message)
    return _render_ticket(request, current, bound={ticket_action.name: form}, status=409)


@agent_required
@require_POST
def ticket_follow(request: HttpRequest, number: str) -> HttpResponse:
    """Follow or unfollow (POST `follow=0`) a ticket the agent can see."""
    ticket = _ticket_or_404(request, number)
    if request.POST.get("follow") == "0":
        services.ticket_unfollow(ticket=ticket, actor=request.user)
        done = _("You no longer follow %(number)s.") % {"number": ticket.number}
        return _after_action(request, ticket, done)
    run_service(request, lambda: services.ticket_follow(ticket=ticket, actor=request.user))
    messages.success(request, _("You follow %(number)s.") % {"number": ticket.number})
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
        # Agents who see the ticket without working on it write internal notes only.
        internal = data["is_internal"] or not works_on(ticket, request.user)
        ok, comment = run_service(
            request,
            lambda: services.comment_add(
                ticket_id=ticket.pk,
                actor=request.user,
                body=data["body"],
                is_internal=internal,
            ),
            form=form,
        )
        if ok:
            attach_files(
                request,
                ticket,
                data["attachments"],
                comment=comment,
                is_internal=internal,
            )
    if request.htmx:
        context = {
            "ticket": ticket,
            "comments_html": comments_html(
                list(selectors.ticket_comments(viewer=request.user, ticket=ticket)), ticket
            ),
            "comment_form": forms.CommentForm() if ok else form,
            "can_comment": True,
            "can_reply_publicly": works_on(ticket, request.user),
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
    # The choices are the catalogue's bulk actions; the one note is the action's text input.
    bulk_action, note = catalogue.BY_NAME[data["action"]], data["note"]
    fields = bulk_action.form.base_fields
    if "assignee" in fields and data["assignee"] is None:
        messages.error(request, _("Choose who to assign the tickets to."))
        return redirect(_safe_next(request))
    if bulk_action.text_field and fields[bulk_action.text_field].required and not note.strip():
        messages.error(request, _("A note is required to resolve or cancel tickets."))
        return redirect(_safe_next(request))
    action_input = {"assignee": data["assignee"]}
    if bulk_action.text_field:
        action_input[bulk_action.text_field] = note
    tickets = list(
        selectors.visible_tickets(user)
        .filter(pk__in=data["ids"][:200])
        .only("id", "number", "updated_at")
    )
    done, failed = 0, []
    for ticket in tickets:
        try:
            # Each ticket as this request read it: one changed meanwhile is refused and named.
            catalogue.perform_on_version(bulk_action, ticket=ticket, actor=user, data=action_input)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            failed.append(f"{ticket.number}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
        except TicketError as exc:  # an impossible transition, or a concurrent change
            failed.append(f"{ticket.number}: {exc}")
    if done:
        messages.success(request, _("%(count)d ticket(s) updated.") % {"count": done})
    for line in failed[:10]:
        messages.error(request, line)
    return redirect(_safe_next(request))
