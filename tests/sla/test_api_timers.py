"""GET /api/sla/tickets/{id}/timers/: the desk's staff see a ticket's clocks; anyone else, and
any id that names no ticket they may see (however large), gets 404 or 403, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import TicketFactory, client_for

pytestmark = pytest.mark.django_db


def test_an_agent_sees_the_clocks_of_a_ticket(desk, open_ticket):
    ticket = open_ticket(at=None, priority="P2")
    response = client_for(desk.admin).get(f"/api/sla/tickets/{ticket.pk}/timers/")
    assert response.status_code == 200
    assert sorted(row["metric"] for row in response.json()) == ["first_response", "resolution"]


def test_the_requester_is_refused(desk):
    ticket = TicketFactory(desk).new()
    response = client_for(desk.requester).get(f"/api/sla/tickets/{ticket.pk}/timers/")
    assert response.status_code == 403


@pytest.mark.parametrize("ticket_id", [2**63 - 1, 2**63, 10**22, 13653358049991612956672])
def test_an_id_beyond_any_ticket_is_not_found(desk, ticket_id):
    response = client_for(desk.admin).get(f"/api/sla/tickets/{ticket_id}/timers/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
