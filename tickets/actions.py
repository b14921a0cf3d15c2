"""The catalogue of ticket actions: everything a person can do to a ticket, in one list.

Each action says its name (the API's endpoint `POST /api/tickets/{id}/<name>/` and the
workspace's button), its label, the state-machine transitions it may run, its input (the API's
input serializer and the web form), who may do it, the service it calls, the message that says
it was done, and whether its button acts at once. Everything else reads this list:

- `available()` here: what a viewer may do now (the API's `actions` and 409 `allowed`, the
  workspace's buttons, the portal's answers); the rule that `selectors.ticket_actions` held,
- the API (`tickets.api.views` builds one endpoint per action, with that action's schema),
- the workspace (buttons, forms, handlers and bulk actions),
- the portal (the requester's answers: confirm, reject, withdraw, reopen).

Who may do an action is the state machine's word: an action is offered when one of its
`transitions` is available to the viewer (the transition's `permission=` and `conditions=`).
The two actions no transition decides alone (reassigning an owned ticket, overriding the
priority) carry their own rule in `may`. Each user transition offers exactly one action; the
transitions only the desk itself runs are listed in SYSTEM_TRANSITIONS.

Adding a transition touches the model (`Ticket`) and this file only: a new `TicketAction`
(or the transition's name added to an existing one's `transitions`, or to SYSTEM_TRANSITIONS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import Tier
from accounts.models import User

from . import forms, services
from .api import inputs
from .choices import Status
from .models import Ticket
from .permissions import can_dispatch, works_on
from .selectors import ticket_get

Text = str | Promise
# perform(ticket, actor, data): calls the service with the action's cleaned input.
Perform = Callable[[Ticket, User, dict[str, Any]], Any]


@dataclass(frozen=True)
class TicketAction:
    """One thing a person can do to a ticket, as every surface offers it."""

    name: str
    label: Text  # the workspace's button
    done: Text  # the success message; `%(number)s` is the ticket's number
    perform: Perform
    serializer: type  # the API's input serializer (its schema component)
    form: type[forms.ActionForm]  # the web form
    api_doc: str  # the endpoint's description in the OpenAPI schema
    transitions: tuple[str, ...] = ()
    may: Callable[[Ticket, User], bool] | None = None
    initial: Callable[[Ticket], dict] | None = None  # the web form's initial values
    direct: bool = False  # the button acts at once; otherwise it opens the form
    text_field: str = ""  # the one free-text input (a bulk note, a requester's answer)
    bulk_label: Text | None = None  # offered in the workspace's bulk actions under this label
    back_office_label: Text | None = None  # when the ticket is in the back office
    back_office_done: Text | None = None
    api_method: str = ""  # the viewset method's name when `name` is taken (APIView.dispatch)

    def label_for(self, ticket: Ticket) -> Text:
        if self.back_office_label is not None and ticket.tier == Tier.BACK:
            return self.back_office_label
        return self.label

    def done_for(self, ticket: Ticket) -> str:
        """The success message for `ticket`, read before the action ran (its tier then)."""
        done = self.done
        if self.back_office_done is not None and ticket.tier == Tier.BACK:
            done = self.back_office_done
        return str(done) % {"number": ticket.number}

    def make_form(self, ticket: Ticket, data=None) -> forms.ActionForm:
        """The web form: bound to `data`, or unbound with the action's initial values."""
        if data is not None:
            return self.form(data, ticket=ticket)
        return self.form(ticket=ticket, initial=self.initial(ticket) if self.initial else None)


# --- who may (for the actions the state machine alone does not decide) -----------------------


def _may_assign(ticket: Ticket, viewer: User) -> bool:
    """A queued ticket is given out by its team or a dispatcher; an owned one changes hands
    within the team."""
    if ticket.status == Status.QUEUED:
        return works_on(ticket, viewer) or can_dispatch(ticket, viewer)
    return ticket.status in (Status.IN_PROGRESS, Status.PENDING) and works_on(ticket, viewer)


def _may_override_priority(ticket: Ticket, viewer: User) -> bool:
    return viewer.has_perm("accounts.override_priority") and (
        works_on(ticket, viewer) or viewer.has_perm("accounts.view_reports")
    )


# --- the calls that need more than passing the input on ------------------------------------


def _escalate(ticket: Ticket, actor: User, data: dict) -> Ticket:
    """To the team given, or else the next team of the ticket's escalation chain."""
    team = data.get("team") or (ticket.team.escalates_to if ticket.team else None)
    if team is None:
        raise ValidationError({"team": [_("This ticket's team has no next team; choose one.")]})
    return services.ticket_dispatch(
        ticket_id=ticket.pk, actor=actor, team=team, reason=data["reason"], escalation=True
    )


def _merge(ticket: Ticket, actor: User, data: dict) -> Ticket:
    """Into the ticket named by number or id, among those the actor may see."""
    into = data["into"].strip()
    try:
        if into.isascii() and into.isdigit() and 0 < int(into) < 2**63:
            target = ticket_get(viewer=actor, ticket_id=int(into))
        else:
            target = ticket_get(viewer=actor, number=into)
    except Ticket.DoesNotExist as exc:
        raise ValidationError({"into": [_("No such ticket.")]}) from exc
    return services.ticket_merge(
        ticket_id=ticket.pk, actor=actor, into=target, reason=data["reason"]
    )


# --- the catalogue ---------------------------------------------------------------------------

ACTIONS: tuple[TicketAction, ...] = (
    TicketAction(
        name="route",
        label=gettext_lazy("Classify and route"),
        done=gettext_lazy("%(number)s was classified and routed."),
        transitions=("route",),
        perform=lambda t, actor, d: services.ticket_route(
            ticket_id=t.pk, actor=actor, tier=d["team"].tier, team=d["team"], reason=d["reason"]
        ),
        serializer=inputs.RouteSerializer,
        form=forms.TeamReasonForm,
        api_doc="Triage a new ticket: put it in a team's queue (at that team's tier).",
    ),
    TicketAction(
        name="take",
        label=gettext_lazy("Take"),
        done=gettext_lazy("You took %(number)s."),
        transitions=("start_work",),
        # Only a ticket still in the queue: of two agents taking it at once, the second is
        # told it is gone instead of taking it over.
        perform=lambda t, actor, d: services.ticket_take(
            ticket_id=t.pk, actor=actor, from_queue_only=True
        ),
        serializer=inputs.EmptySerializer,
        form=forms.EmptyForm,
        direct=True,
        bulk_label=gettext_lazy("Take"),
        api_doc="Take a queued ticket yourself. If someone took it first: 409.",
    ),
    TicketAction(
        name="assign",
        label=gettext_lazy("Assign"),
        done=gettext_lazy("%(number)s was assigned."),
        # Giving out a queued ticket starts work (`start_work`, offered as `take`); an owned
        # ticket just changes hands, which is no transition: `may` says who.
        transitions=("start_work",),
        may=_may_assign,
        perform=lambda t, actor, d: services.ticket_assign(
            ticket_id=t.pk, actor=actor, assignee=d["assignee"], reason=d["reason"]
        ),
        serializer=inputs.AssignSerializer,
        form=forms.AssignForm,
        text_field="reason",
        bulk_label=gettext_lazy("Assign to…"),
        api_doc="Give the ticket to a member of its team (starts work on a queued ticket).",
    ),
    TicketAction(
        name="dispatch",
        label=gettext_lazy("Dispatch"),
        done=gettext_lazy("%(number)s was dispatched."),
        transitions=("dispatch",),
        perform=lambda t, actor, d: services.ticket_dispatch(
            ticket_id=t.pk, actor=actor, team=d["team"], reason=d["reason"]
        ),
        serializer=inputs.DispatchSerializer,
        form=forms.TeamReasonForm,
        initial=lambda t: {"team": t.system.owner_team_id if t.system else None},
        api_method="dispatch_to_team",  # `dispatch` is APIView's request entry point
        api_doc="Dispatch (派单) to another team, with a reason; it lands unassigned in its queue.",
    ),
    TicketAction(
        name="escalate",
        label=gettext_lazy("Escalate"),
        done=gettext_lazy("%(number)s was escalated."),
        transitions=("escalate",),
        perform=_escalate,
        serializer=inputs.EscalateSerializer,
        form=forms.TeamReasonForm,
        initial=lambda t: {"team": t.team.escalates_to_id if t.team else None},
        api_doc="Escalate to the next team of the chain (or the team given), with a reason.",
    ),
    TicketAction(
        name="suspend",
        label=gettext_lazy("Set pending"),
        done=gettext_lazy("%(number)s is pending."),
        transitions=("suspend",),
        perform=lambda t, actor, d: services.ticket_suspend(
            ticket_id=t.pk, actor=actor, reason=d["reason"], note=d["note"]
        ),
        serializer=inputs.SuspendSerializer,
        form=forms.SuspendForm,
        api_doc="Pending on someone outside the desk (挂起); `reason` says who.",
    ),
    TicketAction(
        name="resume",
        label=gettext_lazy("Resume"),
        done=gettext_lazy("%(number)s is in progress again."),
        transitions=("resume",),
        perform=lambda t, actor, d: services.ticket_resume(
            ticket_id=t.pk, actor=actor, note=d["note"]
        ),
        serializer=inputs.NoteSerializer,
        form=forms.NoteForm,
        text_field="note",
        api_doc="Back to work on a pending ticket.",
    ),
    TicketAction(
        name="resolve",
        label=gettext_lazy("Resolve"),
        done=gettext_lazy("%(number)s was resolved."),
        # From the back office the same action submits the fix for the middle office's
        # verification (`submit_fix`): the requester is told only after it.
        back_office_label=gettext_lazy("Submit the fix for verification"),
        back_office_done=gettext_lazy("The fix for %(number)s was submitted for verification."),
        transitions=("resolve", "submit_fix"),
        perform=lambda t, actor, d: services.ticket_resolve(
            ticket_id=t.pk, actor=actor, resolution=d["resolution"]
        ),
        serializer=inputs.ResolveSerializer,
        form=forms.ResolveForm,
        text_field="resolution",
        bulk_label=gettext_lazy("Resolve…"),
        api_doc=(
            "Resolve with a resolution; from the back office this submits the fix for\n"
            "verification by the middle office."
        ),
    ),
    TicketAction(
        name="verify",
        label=gettext_lazy("Verify the fix"),
        done=gettext_lazy("The verification of %(number)s was recorded."),
        transitions=("verify_pass", "verify_fail"),
        perform=lambda t, actor, d: services.ticket_verify(
            ticket_id=t.pk, actor=actor, passed=d["passed"], note=d["note"]
        ),
        serializer=inputs.VerifySerializer,
        form=forms.VerifyForm,
        api_doc=(
            "Verify a back-office fix: passed → the requester is asked to confirm; failed (the\n"
            "note says why) → back to the back office."
        ),
    ),
    TicketAction(
        name="confirm",
        label=gettext_lazy("Confirm for the requester"),
        done=gettext_lazy("%(number)s was confirmed and closed."),
        transitions=("confirm",),
        perform=lambda t, actor, d: services.ticket_confirm(
            ticket_id=t.pk, actor=actor, note=d["note"]
        ),
        serializer=inputs.NoteSerializer,
        form=forms.NoteForm,
        text_field="note",
        api_doc="The requester confirms the fix: closed.",
    ),
    TicketAction(
        name="reject",
        label=gettext_lazy("Reject for the requester"),
        done=gettext_lazy("%(number)s was reopened."),
        transitions=("reject",),
        perform=lambda t, actor, d: services.ticket_reject(
            ticket_id=t.pk, actor=actor, reason=d["reason"]
        ),
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        text_field="reason",
        api_doc="The requester says it is not fixed (reason required): back to its owner.",
    ),
    TicketAction(
        name="reopen",
        label=gettext_lazy("Reopen"),
        done=gettext_lazy("%(number)s was reopened."),
        transitions=("reopen",),
        perform=lambda t, actor, d: services.ticket_reopen(
            ticket_id=t.pk, actor=actor, reason=d["reason"]
        ),
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        text_field="reason",
        api_doc="Reopen a closed ticket within the reopen window (reason required).",
    ),
    TicketAction(
        name="cancel",
        label=gettext_lazy("Cancel"),
        done=gettext_lazy("%(number)s was cancelled."),
        transitions=("cancel",),
        perform=lambda t, actor, d: services.ticket_cancel(
            ticket_id=t.pk, actor=actor, reason=d["reason"]
        ),
        serializer=inputs.ReasonSerializer,
        form=forms.ReasonForm,
        text_field="reason",
        bulk_label=gettext_lazy("Cancel as invalid…"),
        api_doc="Withdraw (requester) or reject as invalid (agent, reason required).",
    ),
    TicketAction(
        name="merge",
        label=gettext_lazy("Merge"),
        done=gettext_lazy("%(number)s was merged."),
        transitions=("merge",),
        perform=_merge,
        serializer=inputs.MergeSerializer,
        form=forms.MergeForm,
        api_doc="Merge this duplicate into another open ticket (by number or id).",
    ),
    TicketAction(
        name="priority",
        label=gettext_lazy("Change priority"),
        done=gettext_lazy("The priority of %(number)s was changed."),
        may=_may_override_priority,
        perform=lambda t, actor, d: services.ticket_set_priority(
            ticket_id=t.pk, actor=actor, priority=d["priority"], reason=d["reason"]
        ),
        serializer=inputs.PrioritySerializer,
        form=forms.PriorityForm,
        initial=lambda t: {"priority": t.priority},
        api_doc="Override the computed priority (reason required).",
    ),
)

# Transitions only the desk itself runs (their permission is `system_only`): no action.
SYSTEM_TRANSITIONS = ("auto_close", "resolve_with_incident")

BY_NAME: dict[str, TicketAction] = {action.name: action for action in ACTIONS}


def transition_names() -> set[str]:
    """Every transition of the ticket's state machine."""
    return {t.name for t in Ticket._meta.get_field("status").get_all_transitions(Ticket)}


def _offering_actions() -> dict[str, str]:
    """Which action each user transition offers; refuses a catalogue where one transition
    would offer two actions, or names a transition the state machine does not have."""
    known = transition_names()
    offered: dict[str, str] = {}
    for action in ACTIONS:
        for name in action.transitions:
            if name not in known:
                raise ImproperlyConfigured(f"action {action.name!r}: no transition {name!r}")
            if action.may is None:
                if name in offered:
                    raise ImproperlyConfigured(
                        f"transition {name!r} offers both {offered[name]!r} and {action.name!r}"
                    )
                offered[name] = action.name
    return offered


OFFERED_BY: dict[str, str] = _offering_actions()


def get(name: str) -> TicketAction | None:
    return BY_NAME.get(name)


def available(*, ticket: Ticket, viewer: User) -> list[str]:
    """The names of the actions `viewer` may take on the ticket now, in the catalogue's order."""
    names = {
        OFFERED_BY[t.name]
        for t in ticket.get_available_user_status_transitions(viewer)
        if t.name in OFFERED_BY
    }
    names.update(action.name for action in ACTIONS if action.may and action.may(ticket, viewer))
    return [action.name for action in ACTIONS if action.name in names]


def perform_on_version(
    action: TicketAction,
    *,
    ticket: Ticket,
    actor: User,
    data: dict[str, Any],
    version: str = "",
    perform: Perform | None = None,
) -> Any:
    """Run `action` only on the version of the ticket the caller acted on.

    `version` is the ticket's ETag as the caller last saw it: the API's `If-Match`, the version
    the workspace's page rendered. Without one, the version is `ticket` as this request read it
    before validating its input. Under the row lock the ticket must still be that version, or
    nothing is done (ConcurrentModification): of two actions sent at the same moment, the one
    that locks second was decided on a ticket that no longer exists and is refused, even when
    the new state would allow it (a reassignment then a resolve by the old owner). The service
    then re-checks its own preconditions under the same lock. `perform` replaces the action's
    own call (the workspace's routing correction); decision 0003 lists what never conflicts.
    """
    with transaction.atomic():
        services.ticket_check_unchanged(
            ticket_id=ticket.pk, etag=version or services.ticket_etag(ticket)
        )
        return (perform or action.perform)(ticket, actor, data)


def bulk_actions() -> list[TicketAction]:
    """The actions the workspace offers on many tickets at once."""
    return [action for action in ACTIONS if action.bulk_label is not None]
