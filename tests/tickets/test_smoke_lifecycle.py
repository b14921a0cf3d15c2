"""The whole journey through the services: front → middle → back → verify → confirm."""

from accounts.choices import Tier
from tickets import services
from tickets.choices import EventKind, Status
from tickets.models import TicketEvent


def test_full_journey_through_every_office(desk, django_capture_on_commit_callbacks):
    ticket, created = services.ticket_create(
        requester=desk.requester,
        title="Trading down",
        description="<script>x</script>",
        created_by=desk.requester,
    )
    assert created and ticket.status == Status.NEW
    assert ticket.number.startswith("SD-") and ticket.unit == desk.unit_a
    services.ticket_route(ticket_id=ticket.pk, actor=None, tier=Tier.FRONT, team=desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.ticket_dispatch(
        ticket_id=ticket.pk,
        actor=desk.tier1,
        team=desk.middle,
        reason="needs an expert",
        escalation=True,
    )
    services.ticket_take(ticket_id=ticket.pk, actor=desk.expert)
    services.ticket_dispatch(
        ticket_id=ticket.pk, actor=desk.expert, team=desk.back, reason="owner of trading"
    )
    services.ticket_take(ticket_id=ticket.pk, actor=desk.engineer)
    ticket = services.ticket_resolve(
        ticket_id=ticket.pk, actor=desk.engineer, resolution="restarted the matching engine"
    )
    assert ticket.status == Status.PENDING_VERIFICATION
    ticket = services.ticket_verify(ticket_id=ticket.pk, actor=desk.expert, passed=True)
    assert ticket.status == Status.RESOLVED
    ticket = services.ticket_confirm(ticket_id=ticket.pk, actor=desk.requester)
    assert ticket.status == Status.CLOSED
    statuses = list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS_CHANGED).values_list(
            "new_value", flat=True
        )
    )
    assert statuses == [
        "queued",
        "in_progress",
        "queued",
        "in_progress",
        "queued",
        "in_progress",
        "pending_verification",
        "resolved",
        "closed",
    ]
