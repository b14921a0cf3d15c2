"""The ticket lifecycle through its services (issue #3): for every transition, who may make it
and who may not, when (conditions), what it needs (required inputs), and what it logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from accounts.choices import Tier
from catalog.models import Category, RequestType
from tests.factories import TicketFactory
from tickets import services
from tickets.choices import ActorKind, EventKind, PendingReason, Priority, Status
from tickets.exceptions import IllegalTransition
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Every kind of person of the `desk` fixture, by attribute name.
PEOPLE = (
    "requester",
    "other_requester",
    "tier1",
    "tier2",
    "expert",
    "engineer",
    "outsider_agent",
    "manager",
    "admin",
)


def allowed(expected: set[str]):
    """Parametrize over every kind of person, with whether they may."""
    return pytest.mark.parametrize(("who", "may"), [(name, name in expected) for name in PEOPLE])


def status_events(ticket: Ticket) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS_CHANGED))


def last_event(ticket: Ticket, kind: str = EventKind.STATUS_CHANGED) -> TicketEvent:
    return TicketEvent.objects.filter(ticket=ticket, kind=kind).latest("id")


def assert_refused(call, ticket: Ticket, status: str) -> None:
    """Refused as an illegal transition (or a permission error), and nothing changed."""
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    with pytest.raises((IllegalTransition, PermissionDenied)):
        call()
    ticket.refresh_from_db()
    assert ticket.status == status
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


# --- intake -----------------------------------------------------------------------------------


def test_create_logs_the_creation_with_the_requester_as_actor(desk):
    ticket = TicketFactory(desk).new(title="  Printer jammed  ", description="Floor 3")
    assert ticket.status == Status.NEW
    assert ticket.title == "Printer jammed"
    assert ticket.unit == desk.unit_a and ticket.unit_path == desk.unit_a.path
    (event,) = TicketEvent.objects.filter(ticket=ticket)
    assert event.kind == EventKind.CREATED
    assert (event.actor, event.actor_kind) == (desk.requester, ActorKind.REQUESTER)
    assert event.new_value == ticket.number
    assert event.is_public is True


def test_create_on_behalf_is_logged_as_the_agent(desk):
    ticket, _ = services.ticket_create(
        requester=desk.requester, title="Phone call", channel="phone", created_by=desk.tier1
    )
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.actor, event.actor_kind) == (desk.tier1, ActorKind.AGENT)
    assert ticket.created_by == desk.tier1 and ticket.requester == desk.requester


def test_create_by_an_integration_is_logged_as_the_system(desk):
    ticket, _ = services.ticket_create(requester=desk.requester, title="Alert", channel="alert")
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.actor, event.actor_kind) == (None, ActorKind.SYSTEM)


def test_only_agents_with_log_on_behalf_open_tickets_for_others(desk):
    with pytest.raises(PermissionDenied):
        services.ticket_create(
            requester=desk.requester, title="For alice", created_by=desk.other_requester
        )
    with pytest.raises(PermissionDenied):
        services.ticket_create(requester=desk.requester, title="For alice", created_by=desk.expert)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("title", "field"), [("", "title"), ("   ", "title"), ("x" * 201, "title")]
)
def test_create_refuses_bad_titles_with_the_field(desk, title, field):
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_create(requester=desk.requester, title=title, created_by=desk.requester)
    assert field in excinfo.value.message_dict


# --- route (new → queued) ---------------------------------------------------------------------


@allowed({"tier1", "tier2", "expert", "outsider_agent", "admin"})
def test_who_may_route_a_new_ticket_from_triage(desk, who, may):
    ticket = TicketFactory(desk).new()
    call = lambda: services.ticket_route(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), tier=Tier.FRONT, team=desk.front
    )
    if may:
        ticket = call()
        assert (ticket.status, ticket.tier, ticket.team) == (Status.QUEUED, Tier.FRONT, desk.front)
        assert ticket.needs_triage is False
    else:
        assert_refused(call, ticket, Status.NEW)


def test_route_by_the_desk_logs_status_tier_and_team_as_system(desk):
    ticket = TicketFactory(desk).new()
    services.ticket_route(
        ticket_id=ticket.pk, actor=None, tier=Tier.MIDDLE, team=desk.middle, reason="rule 4"
    )
    events = {
        e.kind: e for e in TicketEvent.objects.filter(ticket=ticket).exclude(kind="ticket.created")
    }
    assert set(events) == {EventKind.STATUS_CHANGED, EventKind.TIER_CHANGED, EventKind.TEAM_CHANGED}
    assert (
        events[EventKind.STATUS_CHANGED].old_value,
        events[EventKind.STATUS_CHANGED].new_value,
    ) == (
        "new",
        "queued",
    )
    assert (events[EventKind.TIER_CHANGED].old_value, events[EventKind.TIER_CHANGED].new_value) == (
        "",
        "middle",
    )
    assert events[EventKind.TEAM_CHANGED].new_value == desk.middle.pk
    assert all(e.actor is None and e.actor_kind == ActorKind.SYSTEM for e in events.values())
    assert all(e.message == "rule 4" for e in events.values())


def test_route_refuses_an_unknown_tier(desk):
    ticket = TicketFactory(desk).new()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_route(ticket_id=ticket.pk, actor=None, tier="space", team=desk.front)
    assert "tier" in excinfo.value.message_dict


def test_a_queued_ticket_cannot_be_routed_again(desk):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(IllegalTransition) as excinfo:
        services.ticket_route(ticket_id=ticket.pk, actor=None, tier=Tier.FRONT, team=desk.front)
    assert excinfo.value.status == Status.QUEUED


# --- take / assign (queued → in progress) -----------------------------------------------------


@pytest.mark.parametrize("who", ["tier1", "tier2"])
def test_team_members_take_a_queued_ticket(desk, who):
    ticket = TicketFactory(desk).queued()
    agent = getattr(desk, who)
    ticket = services.ticket_take(ticket_id=ticket.pk, actor=agent)
    assert (ticket.status, ticket.assignee) == (Status.IN_PROGRESS, agent)
    assert ticket.first_response_at is not None
    event = last_event(ticket, EventKind.ASSIGNED)
    assert (event.old_value, event.new_value, event.actor, event.actor_kind) == (
        None,
        agent.pk,
        agent,
        ActorKind.AGENT,
    )


@pytest.mark.parametrize("who", ["requester", "expert", "engineer", "outsider_agent", "admin"])
def test_people_outside_the_team_cannot_take_its_ticket(desk, who):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_take(ticket_id=ticket.pk, actor=getattr(desk, who))
    assert "assignee" in excinfo.value.message_dict
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.QUEUED, None)


def test_a_team_member_assigns_a_colleague_but_an_outsider_may_not(desk):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(PermissionDenied):
        services.ticket_assign(ticket_id=ticket.pk, actor=desk.outsider_agent, assignee=desk.tier2)
    ticket = services.ticket_assign(ticket_id=ticket.pk, actor=desk.tier1, assignee=desk.tier2)
    assert (ticket.status, ticket.assignee) == (Status.IN_PROGRESS, desk.tier2)


def test_reassigning_an_owned_ticket_logs_old_and_new_assignee(desk):
    ticket = TicketFactory(desk).in_progress()
    ticket = services.ticket_assign(
        ticket_id=ticket.pk, actor=desk.tier1, assignee=desk.tier2, reason="holiday"
    )
    assert (ticket.status, ticket.assignee) == (Status.IN_PROGRESS, desk.tier2)
    event = last_event(ticket, EventKind.ASSIGNED)
    assert (event.old_value, event.new_value, event.message) == (
        desk.tier1.pk,
        desk.tier2.pk,
        "holiday",
    )
    with pytest.raises(PermissionDenied):
        services.ticket_assign(ticket_id=ticket.pk, actor=desk.expert, assignee=desk.tier1)


# --- dispatch and escalation ------------------------------------------------------------------


@allowed({"tier1", "tier2", "admin"})
def test_who_may_dispatch_a_front_office_ticket(desk, who, may):
    ticket = TicketFactory(desk).in_progress()
    call = lambda: services.ticket_dispatch(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), team=desk.middle, reason="expert needed"
    )
    if may:
        ticket = call()
        assert (ticket.status, ticket.tier, ticket.team, ticket.assignee) == (
            Status.QUEUED,
            Tier.MIDDLE,
            desk.middle,
            None,
        )
    else:
        assert_refused(call, ticket, Status.IN_PROGRESS)


def test_dispatch_logs_tier_team_assignee_and_status_with_the_reason(desk):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_dispatch(
        ticket_id=ticket.pk, actor=desk.tier1, team=desk.middle, reason="expert needed"
    )
    events = {
        e.kind: e for e in TicketEvent.objects.filter(ticket=ticket, data__transition="dispatch")
    }
    assert {k: (e.old_value, e.new_value) for k, e in events.items()} == {
        EventKind.STATUS_CHANGED: ("in_progress", "queued"),
        EventKind.TIER_CHANGED: ("front", "middle"),
        EventKind.TEAM_CHANGED: (desk.front.pk, desk.middle.pk),
        EventKind.ASSIGNED: (desk.tier1.pk, None),
    }
    assert {(e.actor, e.actor_kind, e.message) for e in events.values()} == {
        (desk.tier1, ActorKind.AGENT, "expert needed")
    }


def test_dispatch_requires_a_reason(desk):
    ticket = TicketFactory(desk).in_progress()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_dispatch(
            ticket_id=ticket.pk, actor=desk.tier1, team=desk.middle, reason=" "
        )
    assert "reason" in excinfo.value.message_dict
    ticket.refresh_from_db()
    assert ticket.team == desk.front


def test_dispatch_to_the_queue_it_is_already_in_is_refused(desk):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_dispatch(ticket_id=ticket.pk, actor=desk.tier1, team=desk.front, reason="x")
    assert "team" in excinfo.value.message_dict


def test_escalation_moves_a_pending_ticket_but_a_dispatch_does_not(desk):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.VENDOR)
    with pytest.raises(IllegalTransition):
        services.ticket_dispatch(
            ticket_id=ticket.pk, actor=desk.tier1, team=desk.middle, reason="x"
        )
    ticket = services.ticket_dispatch(
        ticket_id=ticket.pk, actor=desk.tier1, team=desk.middle, reason="stuck", escalation=True
    )
    assert (ticket.status, ticket.tier, ticket.pending_reason) == (Status.QUEUED, Tier.MIDDLE, "")
    assert last_event(ticket).data["transition"] == "escalate"


def test_the_whole_chain_front_middle_back(desk):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_dispatch(
        ticket_id=ticket.pk, actor=desk.tier1, team=desk.middle, reason="expert", escalation=True
    )
    services.ticket_take(ticket_id=ticket.pk, actor=desk.expert)
    ticket = services.ticket_dispatch(
        ticket_id=ticket.pk, actor=desk.expert, team=desk.back, reason="owner of trading"
    )
    assert (ticket.tier, ticket.team, ticket.status) == (Tier.BACK, desk.back, Status.QUEUED)
    # Once dispatched on, the front office no longer works it.
    with pytest.raises(PermissionDenied):
        services.ticket_assign(ticket_id=ticket.pk, actor=desk.tier1, assignee=desk.engineer)


# --- pending ----------------------------------------------------------------------------------


@allowed({"tier1", "tier2", "admin"})
def test_who_may_suspend(desk, who, may):
    ticket = TicketFactory(desk).in_progress()
    call = lambda: services.ticket_suspend(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), reason=PendingReason.REQUESTER
    )
    if may:
        ticket = call()
        assert (ticket.status, ticket.pending_reason) == (Status.PENDING, PendingReason.REQUESTER)
    else:
        assert_refused(call, ticket, Status.IN_PROGRESS)


@pytest.mark.parametrize("reason", ["", "holiday", None])
def test_suspend_requires_a_known_reason(desk, reason):
    ticket = TicketFactory(desk).in_progress()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=reason)
    assert "reason" in excinfo.value.message_dict


def test_suspend_logs_one_status_entry_carrying_the_reason(desk):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_suspend(
        ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.VENDOR, note="RMA open"
    )
    event = last_event(ticket)
    assert (event.old_value, event.new_value, event.message) == (
        "in_progress",
        "pending",
        "RMA open",
    )
    assert event.data == {"transition": "suspend", "pending_reason": "vendor"}
    # The pending reason is folded into the status entry, not logged twice.
    assert not TicketEvent.objects.filter(ticket=ticket, field="pending_reason").exists()


@allowed({"requester", "tier1", "tier2", "admin"})
def test_who_may_resume(desk, who, may):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.OTHER)
    call = lambda: services.ticket_resume(ticket_id=ticket.pk, actor=getattr(desk, who))  # noqa: E731
    if may:
        ticket = call()
        assert (ticket.status, ticket.pending_reason) == (Status.IN_PROGRESS, "")
    else:
        assert_refused(call, ticket, Status.PENDING)


# --- resolve, submit fix, verify --------------------------------------------------------------


@allowed({"tier1", "tier2", "admin"})
def test_who_may_resolve_a_front_office_ticket(desk, who, may):
    ticket = TicketFactory(desk).in_progress()
    call = lambda: services.ticket_resolve(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), resolution="Cleared the cache."
    )
    if may:
        ticket = call()
        assert (ticket.status, ticket.resolution) == (Status.RESOLVED, "Cleared the cache.")
        assert ticket.resolved_at is not None
    else:
        assert_refused(call, ticket, Status.IN_PROGRESS)


@allowed({"expert", "admin"})
def test_who_may_resolve_a_middle_office_ticket(desk, who, may):
    ticket = TicketFactory(desk).in_progress(desk.middle)
    call = lambda: services.ticket_resolve(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), resolution="Config fixed."
    )
    if may:
        assert call().status == Status.RESOLVED  # the middle office resolves directly
    else:
        assert_refused(call, ticket, Status.IN_PROGRESS)


@pytest.mark.parametrize("resolution", ["", "   ", None])
def test_resolving_requires_a_resolution_note(desk, resolution):
    ticket = TicketFactory(desk).in_progress()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution=resolution)
    assert "resolution" in excinfo.value.message_dict
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_the_back_office_submits_a_fix_for_verification_instead_of_resolving(desk):
    ticket = TicketFactory(desk).in_progress(desk.back)
    # The state machine itself refuses a direct resolve at the back office.
    assert not can_proceed(ticket.resolve)
    assert can_proceed(ticket.submit_fix)
    ticket = services.ticket_resolve(
        ticket_id=ticket.pk, actor=desk.engineer, resolution="Patched the job."
    )
    assert ticket.status == Status.PENDING_VERIFICATION
    assert ticket.resolved_at is None  # the requester is not told yet
    assert last_event(ticket).data["transition"] == "submit_fix"


@pytest.mark.parametrize("team", ["front", "middle"])
def test_front_and_middle_office_cannot_submit_a_fix_for_verification(desk, team):
    ticket = TicketFactory(desk).in_progress(getattr(desk, team))
    assert not can_proceed(ticket.submit_fix)


@allowed({"expert", "admin"})
def test_who_may_verify_a_back_office_fix(desk, who, may):
    ticket = TicketFactory(desk).pending_verification()
    call = lambda: services.ticket_verify(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), passed=True
    )
    if may:
        ticket = call()
        assert ticket.status == Status.RESOLVED and ticket.resolved_at is not None
    else:
        assert_refused(call, ticket, Status.PENDING_VERIFICATION)


def test_a_failed_verification_goes_back_to_the_engineer_with_the_reason(desk):
    ticket = TicketFactory(desk).pending_verification()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_verify(ticket_id=ticket.pk, actor=desk.expert, passed=False, note="")
    assert "note" in excinfo.value.message_dict
    ticket = services.ticket_verify(
        ticket_id=ticket.pk, actor=desk.expert, passed=False, note="Still fails at 9:00."
    )
    assert (ticket.status, ticket.assignee, ticket.tier) == (
        Status.IN_PROGRESS,
        desk.engineer,
        Tier.BACK,
    )
    event = last_event(ticket)
    assert (event.old_value, event.new_value, event.message, event.actor) == (
        "pending_verification",
        "in_progress",
        "Still fails at 9:00.",
        desk.expert,
    )


def test_verification_is_only_for_tickets_pending_it(desk):
    ticket = TicketFactory(desk).in_progress(desk.back)
    with pytest.raises(IllegalTransition):
        services.ticket_verify(ticket_id=ticket.pk, actor=desk.expert, passed=True)


# --- confirm, reject, auto-close --------------------------------------------------------------


@allowed({"requester", "tier1", "tier2", "admin"})
def test_who_may_confirm_for_the_requester(desk, who, may):
    ticket = TicketFactory(desk).resolved()
    call = lambda: services.ticket_confirm(ticket_id=ticket.pk, actor=getattr(desk, who))  # noqa: E731
    if may:
        ticket = call()
        assert ticket.status == Status.CLOSED and ticket.closed_at is not None
        expected_kind = ActorKind.REQUESTER if who == "requester" else ActorKind.AGENT
        assert last_event(ticket).actor_kind == expected_kind
    else:
        assert_refused(call, ticket, Status.RESOLVED)


@allowed({"requester", "tier1", "tier2", "admin"})
def test_who_may_reject_a_resolution(desk, who, may):
    ticket = TicketFactory(desk).resolved()
    call = lambda: services.ticket_reject(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), reason="Still broken."
    )
    if may:
        ticket = call()
        assert (ticket.status, ticket.assignee, ticket.reopen_count, ticket.resolved_at) == (
            Status.IN_PROGRESS,
            desk.tier1,
            1,
            None,
        )
    else:
        assert_refused(call, ticket, Status.RESOLVED)


def test_rejecting_requires_a_reason(desk):
    ticket = TicketFactory(desk).resolved()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_reject(ticket_id=ticket.pk, actor=desk.requester, reason="")
    assert "reason" in excinfo.value.message_dict


def test_auto_close_only_after_the_configured_days_and_safe_to_repeat(desk, settings):
    settings.SERVICEDESK = {**settings.SERVICEDESK, "AUTO_CLOSE_RESOLVED_AFTER_DAYS": 5}
    with time_machine.travel(T0, tick=False):
        ticket = TicketFactory(desk).resolved()
    with time_machine.travel(T0 + timedelta(days=5) - timedelta(minutes=1), tick=False):
        assert services.ticket_auto_close(ticket_id=ticket.pk) is None
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    with time_machine.travel(T0 + timedelta(days=5, minutes=1), tick=False):
        closed = services.ticket_auto_close(ticket_id=ticket.pk)
        assert closed is not None and closed.status == Status.CLOSED
        assert closed.closed_at == T0 + timedelta(days=5, minutes=1)
        assert services.ticket_auto_close(ticket_id=ticket.pk) is None  # run twice: no-op
    events = TicketEvent.objects.filter(ticket=ticket, data__transition="auto_close")
    assert [(e.old_value, e.new_value, e.actor, e.actor_kind) for e in events] == [
        ("resolved", "closed", None, ActorKind.SYSTEM)
    ]
    assert "5 days" in events[0].message


def test_auto_close_leaves_tickets_that_are_not_resolved_alone(desk):
    ticket = TicketFactory(desk).in_progress()
    with time_machine.travel(timedelta(days=30)):
        assert services.ticket_auto_close(ticket_id=ticket.pk) is None
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_nobody_makes_the_system_only_transitions_by_hand(desk):
    ticket = TicketFactory(desk).resolved()
    for name in PEOPLE:
        user = getattr(desk, name)
        assert not has_transition_perm(ticket.auto_close, user)
        assert not has_transition_perm(ticket.resolve_with_incident, user)
        assert "auto_close" not in services.available_transitions(ticket, user)


# --- reopen -----------------------------------------------------------------------------------


@allowed({"requester", "tier1", "tier2", "admin"})
def test_who_may_reopen_within_the_window(desk, who, may):
    ticket = TicketFactory(desk).closed()
    call = lambda: services.ticket_reopen(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), reason="It is back."
    )
    if may:
        ticket = call()
        # Back to its last owner.
        assert (ticket.status, ticket.assignee, ticket.reopen_count) == (
            Status.IN_PROGRESS,
            desk.tier1,
            1,
        )
        assert ticket.closed_at is None and ticket.resolved_at is None
    else:
        assert_refused(call, ticket, Status.CLOSED)


def test_reopen_window_is_configurable_and_closes(desk, settings):
    settings.SERVICEDESK = {**settings.SERVICEDESK, "REOPEN_WINDOW_DAYS": 2}
    with time_machine.travel(T0, tick=False):
        ticket = TicketFactory(desk).closed()
    late = T0 + timedelta(days=2, minutes=1)
    with time_machine.travel(late, tick=False), pytest.raises(IllegalTransition):
        services.ticket_reopen(ticket_id=ticket.pk, actor=desk.requester, reason="again")
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    with time_machine.travel(T0 + timedelta(days=2) - timedelta(minutes=1), tick=False):
        ticket = services.ticket_reopen(ticket_id=ticket.pk, actor=desk.requester, reason="again")
    assert ticket.status == Status.IN_PROGRESS


def test_reopen_requires_a_reason(desk):
    ticket = TicketFactory(desk).closed()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_reopen(ticket_id=ticket.pk, actor=desk.requester, reason="")
    assert "reason" in excinfo.value.message_dict


def test_a_reopened_ticket_nobody_owned_goes_back_to_its_team_queue(desk):
    ticket = TicketFactory(desk).queued()
    incident = TicketFactory(desk).in_progress(desk.middle)
    services.ticket_link_incident(ticket_id=ticket.pk, actor=desk.tier1, incident=incident)
    services.ticket_resolve_linked(incident_id=incident.pk, resolution="Fixed upstream.")
    services.ticket_confirm(ticket_id=ticket.pk, actor=desk.requester)
    ticket = services.ticket_reopen(ticket_id=ticket.pk, actor=desk.requester, reason="Back.")
    assert (ticket.status, ticket.team, ticket.assignee) == (Status.QUEUED, desk.front, None)


def test_cancelled_is_final(desk):
    ticket = services.ticket_cancel(ticket_id=TicketFactory(desk).queued().pk, actor=desk.requester)
    assert ticket.status == Status.CANCELLED
    with pytest.raises(IllegalTransition):
        services.ticket_reopen(ticket_id=ticket.pk, actor=desk.requester, reason="oops")
    with pytest.raises(IllegalTransition):
        services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)


# --- cancel / withdraw ------------------------------------------------------------------------


@allowed({"requester", "tier1", "tier2", "admin"})
def test_who_may_cancel(desk, who, may):
    ticket = TicketFactory(desk).in_progress()
    call = lambda: services.ticket_cancel(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), reason="Not a desk matter."
    )
    if may:
        ticket = call()
        assert ticket.status == Status.CANCELLED and ticket.closed_at is not None
    else:
        assert_refused(call, ticket, Status.IN_PROGRESS)


def test_the_requester_withdraws_without_a_reason_an_agent_needs_one(desk):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_cancel(ticket_id=ticket.pk, actor=desk.tier1, reason="")
    assert "reason" in excinfo.value.message_dict
    ticket = services.ticket_cancel(ticket_id=ticket.pk, actor=desk.requester)
    assert ticket.status == Status.CANCELLED
    assert last_event(ticket).actor_kind == ActorKind.REQUESTER


@pytest.mark.parametrize("state", ["resolved", "closed", "pending_verification"])
def test_tickets_past_the_work_cannot_be_cancelled(desk, state):
    ticket = getattr(TicketFactory(desk), state)()
    actor = desk.engineer if state == "pending_verification" else desk.tier1
    with pytest.raises(IllegalTransition):
        services.ticket_cancel(ticket_id=ticket.pk, actor=actor, reason="x")


# --- merge ------------------------------------------------------------------------------------


@allowed({"tier1", "tier2", "admin"})
def test_who_may_merge_a_duplicate(desk, who, may):
    original = TicketFactory(desk).in_progress()
    duplicate = TicketFactory(desk).queued(title="VPN down again")
    call = lambda: services.ticket_merge(  # noqa: E731
        ticket_id=duplicate.pk, actor=getattr(desk, who), into=original, reason="same"
    )
    if may:
        duplicate = call()
        assert (duplicate.status, duplicate.merged_into) == (Status.CANCELLED, original)
        note = TicketEvent.objects.get(ticket=original, kind=EventKind.MERGED)
        assert (note.new_value, note.actor) == (duplicate.number, getattr(desk, who))
        assert last_event(duplicate).data == {
            "transition": "merge",
            "into": original.number,
            "pending_reason": "",
            "message_public": True,  # why it was merged is for the requester too
        }
    else:
        assert_refused(call, duplicate, Status.QUEUED)
        assert not TicketEvent.objects.filter(ticket=original, kind=EventKind.MERGED).exists()


def test_merge_into_itself_or_a_finished_ticket_is_refused(desk):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_merge(ticket_id=ticket.pk, actor=desk.tier1, into=ticket)
    assert "into" in excinfo.value.message_dict
    finished = TicketFactory(desk).closed()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_merge(ticket_id=ticket.pk, actor=desk.tier1, into=finished)
    assert "into" in excinfo.value.message_dict
    ticket.refresh_from_db()
    assert ticket.status == Status.QUEUED and ticket.merged_into is None


# --- incidents --------------------------------------------------------------------------------


def test_resolving_an_incident_resolves_its_open_linked_tickets_together(desk):
    incident = TicketFactory(desk).in_progress(desk.middle, title="Trading down")
    open_one = TicketFactory(desk).queued(title="Cannot trade")
    pending_one = TicketFactory(desk).in_progress(title="Orders stuck")
    services.ticket_suspend(ticket_id=pending_one.pk, actor=desk.tier1, reason="other")
    done = TicketFactory(desk).in_progress(title="Slow trading")
    unrelated = TicketFactory(desk).queued(title="Printer")
    for ticket in (open_one, pending_one, done):
        services.ticket_link_incident(ticket_id=ticket.pk, actor=desk.tier1, incident=incident)
    services.ticket_cancel(ticket_id=done.pk, actor=desk.requester)

    ids = services.ticket_resolve_linked(incident_id=incident.pk, resolution="Failover done.")

    assert sorted(ids) == sorted([open_one.pk, pending_one.pk])
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses[open_one.pk] == statuses[pending_one.pk] == Status.RESOLVED
    assert statuses[done.pk] == Status.CANCELLED
    assert statuses[unrelated.pk] == Status.QUEUED
    assert statuses[incident.pk] == Status.IN_PROGRESS
    event = last_event(open_one)
    assert (event.actor_kind, event.message, event.data["transition"]) == (
        ActorKind.SYSTEM,
        "Failover done.",
        "resolve_with_incident",
    )
    # Safe to repeat: nothing left to resolve.
    assert services.ticket_resolve_linked(incident_id=incident.pk, resolution="again") == []


def test_linking_needs_an_agent_on_the_ticket_and_another_ticket(desk):
    incident = TicketFactory(desk).in_progress(desk.middle)
    ticket = TicketFactory(desk).queued()
    with pytest.raises(PermissionDenied):
        services.ticket_link_incident(ticket_id=ticket.pk, actor=desk.expert, incident=incident)
    with pytest.raises(ValidationError):
        services.ticket_link_incident(ticket_id=ticket.pk, actor=desk.tier1, incident=ticket)
    services.ticket_link_incident(ticket_id=ticket.pk, actor=desk.tier1, incident=incident)
    event = last_event(ticket, EventKind.LINKED)
    assert (event.new_value, event.actor) == (incident.number, desk.tier1)


# --- comments ---------------------------------------------------------------------------------


def test_a_requester_reply_resumes_a_ticket_pending_on_them(desk):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.REQUESTER)
    services.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="Here is the log.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.pending_reason) == (Status.IN_PROGRESS, "")
    event = last_event(ticket)
    assert (event.old_value, event.new_value, event.actor_kind) == (
        "pending",
        "in_progress",
        ActorKind.REQUESTER,
    )


@pytest.mark.parametrize("reason", [PendingReason.VENDOR, PendingReason.CHANGE])
def test_a_requester_reply_does_not_resume_a_ticket_pending_on_others(desk, reason):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=reason)
    services.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="Any news?")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.pending_reason) == (Status.PENDING, reason)


def test_an_agent_reply_does_not_resume_and_an_internal_note_is_not_public(desk):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_suspend(ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.REQUESTER)
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="Please send the log.")
    note = services.comment_add(
        ticket_id=ticket.pk, actor=desk.tier2, body="User is VIP", is_internal=True
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.NOTE_ADDED)
    assert (event.is_public, event.data, event.actor_kind) == (
        False,
        {"comment_id": note.pk},
        ActorKind.AGENT,
    )
    assert TicketEvent.objects.get(ticket=ticket, kind=EventKind.COMMENTED).is_public is True


def test_who_may_comment(desk):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(PermissionDenied):
        services.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="x", is_internal=True)
    for name in ("other_requester", "expert", "outsider_agent", "manager"):
        with pytest.raises(PermissionDenied):
            services.comment_add(ticket_id=ticket.pk, actor=getattr(desk, name), body="x")
    with pytest.raises(ValidationError) as excinfo:
        services.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="  ")
    assert "body" in excinfo.value.message_dict
    assert not ticket.comments.exists()


def test_the_first_public_agent_reply_is_the_first_response(desk):
    ticket = TicketFactory(desk).queued()
    with time_machine.travel(T0, tick=False):
        services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="note", is_internal=True)
        services.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="hello?")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="On it.")
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        services.comment_add(ticket_id=ticket.pk, actor=desk.tier2, body="Me too.")
    ticket.refresh_from_db()
    assert ticket.first_response_at == T0 + timedelta(hours=1)


# --- priority and classification --------------------------------------------------------------


@allowed({"tier2", "manager", "admin"})
def test_who_may_override_the_priority(desk, who, may):
    ticket = TicketFactory(desk).queued()
    call = lambda: services.ticket_set_priority(  # noqa: E731
        ticket_id=ticket.pk, actor=getattr(desk, who), priority=Priority.P1, reason="CEO"
    )
    if may:
        ticket = call()
        assert ticket.priority == Priority.P1
        event = last_event(ticket, EventKind.PRIORITY_CHANGED)
        assert (event.old_value, event.new_value, event.message, event.data) == (
            "P3",
            "P1",
            "CEO",
            {"override": True},
        )
        assert event.actor_kind == ActorKind.AGENT and event.is_public
    else:
        with pytest.raises(PermissionDenied):
            call()
        ticket.refresh_from_db()
        assert ticket.priority == Priority.P3


def test_priority_override_requires_a_reason_and_a_known_priority(desk):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_set_priority(
            ticket_id=ticket.pk, actor=desk.tier2, priority=Priority.P1, reason=""
        )
    assert "reason" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_set_priority(
            ticket_id=ticket.pk, actor=desk.tier2, priority="P9", reason="x"
        )
    assert "priority" in excinfo.value.message_dict
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.PRIORITY_CHANGED).exists()


def test_classification_by_the_desk_logs_each_changed_field(desk):
    ticket = TicketFactory(desk).new()
    fault = RequestType.objects.get(code="fault")
    vpn = Category.objects.get(code="network-vpn")
    ticket = services.ticket_classify(
        ticket_id=ticket.pk,
        actor=None,
        request_type=fault,
        category=vpn,
        system=desk.system,
        priority=Priority.P2,
        confidence=0.91,
        needs_triage=False,
    )
    assert (ticket.request_type, ticket.category, ticket.system, ticket.priority) == (
        fault,
        vpn,
        desk.system,
        Priority.P2,
    )
    assert ticket.classification_confidence == 0.91
    events = {
        e.kind: e for e in TicketEvent.objects.filter(ticket=ticket).exclude(kind="ticket.created")
    }
    assert {k: (e.old_value, e.new_value, e.is_public) for k, e in events.items()} == {
        EventKind.TYPE_CHANGED: (None, fault.pk, False),
        EventKind.CATEGORY_CHANGED: (None, vpn.pk, False),
        EventKind.SYSTEM_CHANGED: (None, desk.system.pk, True),
        EventKind.PRIORITY_CHANGED: ("P3", "P2", True),
    }
    assert {(e.actor_kind, e.data["confidence"]) for e in events.values()} == {
        (ActorKind.SYSTEM, 0.91)
    }


def test_an_agent_corrects_the_classification_an_outsider_may_not(desk):
    ticket = TicketFactory(desk).queued()
    consultation = RequestType.objects.get(code="consultation")
    with pytest.raises(PermissionDenied):
        services.ticket_classify(
            ticket_id=ticket.pk, actor=desk.outsider_agent, request_type=consultation
        )
    with pytest.raises(PermissionDenied):
        services.ticket_classify(
            ticket_id=ticket.pk, actor=desk.requester, request_type=consultation
        )
    services.ticket_classify(
        ticket_id=ticket.pk, actor=desk.tier1, request_type=consultation, message="a question"
    )
    event = last_event(ticket, EventKind.TYPE_CHANGED)
    assert (event.actor, event.actor_kind, event.new_value, event.message) == (
        desk.tier1,
        ActorKind.AGENT,
        consultation.pk,
        "a question",
    )


@pytest.mark.parametrize(("field", "value"), [("priority", "P0"), ("impact", 9), ("urgency", 0)])
def test_classification_refuses_unknown_values_with_the_field(desk, field, value):
    ticket = TicketFactory(desk).new()
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_classify(ticket_id=ticket.pk, actor=None, **{field: value})
    assert field in excinfo.value.message_dict
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.impact, ticket.urgency) == ("P3", 4, 3)


# --- the whole journey ------------------------------------------------------------------------


def test_full_journey_through_every_office(desk):
    ticket = TicketFactory(desk).new(title="Trading down", description="<script>x</script>")
    assert ticket.description == "<script>x</script>"  # stored as typed, escaped on output
    services.ticket_route(ticket_id=ticket.pk, actor=None, tier=Tier.FRONT, team=desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.ticket_dispatch(
        ticket_id=ticket.pk, actor=desk.tier1, team=desk.middle, reason="expert", escalation=True
    )
    services.ticket_take(ticket_id=ticket.pk, actor=desk.expert)
    services.ticket_dispatch(ticket_id=ticket.pk, actor=desk.expert, team=desk.back, reason="own")
    services.ticket_take(ticket_id=ticket.pk, actor=desk.engineer)
    services.ticket_resolve(ticket_id=ticket.pk, actor=desk.engineer, resolution="restarted")
    services.ticket_verify(ticket_id=ticket.pk, actor=desk.expert, passed=True)
    ticket = services.ticket_confirm(ticket_id=ticket.pk, actor=desk.requester)
    assert ticket.status == Status.CLOSED
    assert [(e.new_value, e.actor_kind) for e in status_events(ticket)] == [
        ("queued", ActorKind.SYSTEM),
        ("in_progress", ActorKind.AGENT),
        ("queued", ActorKind.AGENT),
        ("in_progress", ActorKind.AGENT),
        ("queued", ActorKind.AGENT),
        ("in_progress", ActorKind.AGENT),
        ("pending_verification", ActorKind.AGENT),
        ("resolved", ActorKind.AGENT),
        ("closed", ActorKind.REQUESTER),
    ]
    tiers = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.TIER_CHANGED)
    assert [(e.old_value, e.new_value) for e in tiers] == [
        ("", "front"),
        ("front", "middle"),
        ("middle", "back"),
    ]


# --- the state machine's own guards ------------------------------------------------------------


def test_status_cannot_be_assigned_directly(desk):
    ticket = TicketFactory(desk).queued()
    with pytest.raises(AttributeError):
        ticket.status = Status.CLOSED


def test_a_stale_copy_cannot_overwrite_a_concurrent_transition(desk):
    ticket = TicketFactory(desk).queued()
    stale = Ticket.objects.get(pk=ticket.pk)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    stale.start_work(assignee=desk.tier2)  # still "queued" in this copy
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.IN_PROGRESS, desk.tier1)
