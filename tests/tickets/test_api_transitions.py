"""Every action from every status it is not possible in: 409 naming what is allowed, and
nothing written. The actor is an administrator (every capability, sees every ticket), so the
only reason to refuse is the ticket's status."""

import pytest

from tests.factories import TicketFactory, client_for
from tickets.choices import Status
from tickets.models import Ticket, TicketEvent

# What an administrator may do to a ticket in each status (as `TicketFactory.in_status` builds it).
ALLOWED = {
    Status.NEW: ["route", "cancel", "merge", "priority"],
    Status.QUEUED: ["take", "assign", "dispatch", "escalate", "cancel", "merge", "priority"],
    Status.IN_PROGRESS: [
        "assign",
        "dispatch",
        "escalate",
        "suspend",
        "resolve",
        "cancel",
        "merge",
        "priority",
    ],
    Status.PENDING: ["assign", "escalate", "resume", "cancel", "merge", "priority"],
    Status.PENDING_VERIFICATION: ["verify", "priority"],
    Status.RESOLVED: ["confirm", "reject", "priority"],
    Status.CLOSED: ["reopen", "priority"],
    Status.CANCELLED: ["priority"],
}


def payload(action: str, desk, ticket: Ticket, other: Ticket) -> dict:
    """A body valid for `ticket` but for its status (the assignee is one of its team)."""
    return {
        "route": {"team": desk.front.pk, "reason": "triaged"},
        "take": {},
        "assign": {"assignee": (ticket.assignee or desk.tier1).pk},
        "dispatch": {"team": desk.middle.pk, "reason": "needs an expert"},
        "escalate": {"team": desk.middle.pk, "reason": "beyond the front office"},
        "suspend": {"reason": "vendor", "note": "asked the vendor"},
        "resume": {},
        "resolve": {"resolution": "replaced the toner"},
        "verify": {"passed": True},
        "confirm": {},
        "reject": {"reason": "still broken"},
        "reopen": {"reason": "broken again"},
        "cancel": {"reason": "invalid"},
        "merge": {"into": other.number},
    }[action]


ACTIONS = [
    "route",
    "take",
    "assign",
    "dispatch",
    "escalate",
    "suspend",
    "resume",
    "resolve",
    "verify",
    "confirm",
    "reject",
    "reopen",
    "cancel",
    "merge",
]


def test_allowed_table_matches_the_state_machine(desk):
    client = client_for(desk.admin)
    for status, allowed in ALLOWED.items():
        ticket = TicketFactory(desk).in_status(status)
        response = client.get(f"/api/tickets/{ticket.pk}/transitions/")
        assert response.status_code == 200
        assert response.json() == {"status": status, "actions": allowed}


@pytest.mark.parametrize("action", ACTIONS)
def test_action_from_every_wrong_status_is_409(desk, action):
    client = client_for(desk.admin)
    other = TicketFactory(desk).new(title="the ticket that goes on")
    wrong = [status for status, allowed in ALLOWED.items() if action not in allowed]
    assert wrong, action
    for status in wrong:
        ticket = TicketFactory(desk).in_status(status)
        before = Ticket.objects.values().get(pk=ticket.pk)
        events = TicketEvent.objects.filter(ticket=ticket).count()
        response = client.post(
            f"/api/tickets/{ticket.pk}/{action}/",
            payload(action, desk, ticket, other),
            format="json",
        )
        assert response.status_code == 409, (status, response.json())
        body = response.json()
        assert body["allowed"] == ALLOWED[status], status
        assert body["status"] == status
        assert f"“{action}”" in body["detail"]
        after = Ticket.objects.values().get(pk=ticket.pk)
        assert after == before, status
        assert TicketEvent.objects.filter(ticket=ticket).count() == events, status
