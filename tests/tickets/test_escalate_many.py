"""The desk's bulk functional escalation (used by the SLA sweep)."""

from accounts.choices import AssignmentStrategy, Tier
from routing import handovers
from tests.factories import TicketFactory
from tickets import reactions, services
from tickets.choices import ActorKind, EventKind, Status
from tickets.models import Ticket, TicketEvent


def test_escalates_many_tickets_like_ticket_dispatch_would(desk):
    working = TicketFactory(desk).in_progress(desk.front, title="Printer jam")
    waiting = TicketFactory(desk).queued(desk.front, title="Password reset")
    done = TicketFactory(desk).in_progress(desk.front, title="Answered")
    services.ticket_resolve(ticket_id=done.pk, actor=desk.tier1, resolution="Answered by phone")
    already_there = TicketFactory(desk).queued(desk.middle, title="Already with experts")

    outcome = services.ticket_escalate_many(
        moves=[
            services.EscalationMove(
                ticket_id=t.pk, team=desk.middle, reason="SLA breached", data={"level": 1}
            )
            for t in (working, waiting, done, already_there)
        ]
    )

    assert outcome.moved == [
        services.EscalationMoved(
            ticket_id=t.pk,
            old_tier=Tier.FRONT,
            old_team_id=desk.front.pk,
            new_tier=Tier.MIDDLE,
            new_team_id=desk.middle.pk,
        )
        for t in (working, waiting)
    ]
    assert outcome.refused == {
        done.pk: "“escalate” is not allowed while the ticket is resolved.",
        already_there.pk: "The ticket is already queued for this team.",
    }
    # The middle office's strategy (round robin; its one member) assigned both in the same
    # write as the escalation (tickets.wiring.HANDOVER_ASSIGNMENT).
    for ticket in (working, waiting):
        ticket.refresh_from_db()
        assert (ticket.status, ticket.tier, ticket.team_id, ticket.assignee_id) == (
            Status.IN_PROGRESS,
            Tier.MIDDLE,
            desk.middle.pk,
            desk.expert.pk,
        )
        assigned = TicketEvent.objects.filter(
            ticket=ticket, data__transition="start_work", actor_kind=ActorKind.SYSTEM
        )
        assert [(e.kind, e.old_value, e.new_value, e.actor_kind) for e in assigned] == [
            (EventKind.STATUS_CHANGED, "queued", "in_progress", ActorKind.SYSTEM),
            (EventKind.ASSIGNED, None, desk.expert.pk, ActorKind.SYSTEM),
        ]
    assert Ticket.objects.get(pk=done.pk).status == Status.RESOLVED
    events = TicketEvent.objects.filter(ticket=working, message="SLA breached").order_by("id")
    assert [(e.kind, e.old_value, e.new_value, e.actor_kind) for e in events] == [
        (EventKind.STATUS_CHANGED, "in_progress", "queued", ActorKind.SYSTEM),
        (EventKind.TIER_CHANGED, "front", "middle", ActorKind.SYSTEM),
        (EventKind.TEAM_CHANGED, desk.front.pk, desk.middle.pk, ActorKind.SYSTEM),
        (EventKind.ASSIGNED, desk.tier1.pk, None, ActorKind.SYSTEM),
    ]
    assert events[0].data == {"transition": "escalate", "level": 1, "pending_reason": ""}
    assert not TicketEvent.objects.filter(ticket=done, message="SLA breached").exists()


def test_two_moves_of_one_ticket_apply_in_order_and_reactions_run_once_each(
    desk, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(desk).queued(desk.front)
    seen = []

    def remember(**payload):
        seen.append((payload["ticket_id"], payload["old_team_id"], payload["new_team_id"]))

    with (
        reactions.wired_for_test(reactions.ASSIGNMENT_CHANGED, remember),
        django_capture_on_commit_callbacks(execute=True),
    ):
        outcome = services.ticket_escalate_many(
            moves=[
                services.EscalationMove(ticket_id=ticket.pk, team=desk.middle, reason="level 1"),
                services.EscalationMove(ticket_id=ticket.pk, team=desk.back, reason="level 2"),
            ]
        )
    assert outcome.refused == {}
    assert outcome.moved == [
        services.EscalationMoved(
            ticket_id=ticket.pk,
            old_tier=Tier.FRONT,
            old_team_id=desk.front.pk,
            new_tier=Tier.BACK,
            new_team_id=desk.back.pk,
        )
    ]
    ticket.refresh_from_db()
    # The reactions then assigned it by the back office's strategy (its only member).
    assert (ticket.status, ticket.tier, ticket.team_id, ticket.assignee) == (
        Status.IN_PROGRESS,
        Tier.BACK,
        desk.back.pk,
        desk.engineer,
    )
    assert list(
        TicketEvent.objects.filter(
            ticket=ticket, kind=EventKind.TEAM_CHANGED, message__startswith="level"
        ).values_list("old_value", "new_value", "message")
    ) == [
        (desk.front.pk, desk.middle.pk, "level 1"),
        (desk.middle.pk, desk.back.pk, "level 2"),
    ]
    # One reaction for the two moves (front → back), then one for the assignment that
    # followed within the back office.
    assert seen == [
        (ticket.pk, desk.front.pk, desk.back.pk),
        (ticket.pk, desk.back.pk, desk.back.pk),
    ]


def test_a_team_that_assigns_by_hand_keeps_the_hand_over_in_its_queue(
    desk, django_capture_on_commit_callbacks
):
    desk.middle.assignment_strategy = AssignmentStrategy.MANUAL
    desk.middle.save()
    ticket = TicketFactory(desk).in_progress(desk.front)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_escalate_many(
            moves=[services.EscalationMove(ticket_id=ticket.pk, team=desk.middle, reason="SLA")]
        )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.team_id, ticket.assignee_id) == (
        Status.QUEUED,
        desk.middle.pk,
        None,
    )
    # The hand-over reaction noted why, once.
    assert list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ROUTED).values_list(
            "message", flat=True
        )
    ) == ["Application experts assigns by hand: left in the queue"]


def test_a_failing_chooser_leaves_the_assignment_to_the_reaction(
    desk, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(**_kwargs):
        raise RuntimeError("chooser down")

    monkeypatch.setattr(handovers, "choose_for_handovers", broken)
    ticket = TicketFactory(desk).queued(desk.front)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = services.ticket_escalate_many(
            moves=[services.EscalationMove(ticket_id=ticket.pk, team=desk.middle, reason="SLA")]
        )
    assert outcome.refused == {}
    ticket.refresh_from_db()
    # Escalated, not yet assigned: the chooser's failure cost nothing but this write's share.
    assert (ticket.status, ticket.team_id, ticket.assignee_id) == (
        Status.QUEUED,
        desk.middle.pk,
        None,
    )
    monkeypatch.undo()
    for callback in callbacks:
        callback()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (Status.IN_PROGRESS, desk.expert.pk)
