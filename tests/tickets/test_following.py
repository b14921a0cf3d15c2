"""Agents keep sight of what they touched (followers), tier 1 looks up a caller's tickets, and
a requester still sees only their own — per role, through the selectors' one scope."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import User
from tests.factories import TicketFactory
from tickets import actions, selectors, services
from tickets.models import Ticket, TicketFollower

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def seen_by(user: User, **filters) -> list[int]:
    found = selectors.ticket_list(viewer=fresh(user), filters=selectors.TicketFilters(**filters))
    return list(found.values_list("pk", flat=True))


def test_acting_agents_follow_and_the_requester_never_does(desk):
    ticket = TicketFactory(desk).in_progress(desk.front)  # tier 1 took it
    services.ticket_dispatch(ticket_id=ticket.pk, actor=desk.tier1, team=desk.middle, reason="x")
    services.comment_add(ticket_id=ticket.pk, actor=desk.requester, body="Any news?")
    assert set(TicketFollower.objects.filter(ticket=ticket).values_list("user", flat=True)) == {
        desk.tier1.pk
    }
    with pytest.raises(PermissionDenied):
        services.ticket_follow(ticket=ticket, actor=desk.other_requester)
    assert ticket.pk not in seen_by(desk.other_requester)


def test_a_follower_reads_but_does_not_work_the_ticket(desk):
    at_the_back = TicketFactory(desk).in_progress(desk.back, requester=desk.other_requester)
    assert at_the_back.pk not in seen_by(desk.expert)
    services.ticket_follow(ticket=at_the_back, actor=desk.engineer)  # already works on it
    expert = fresh(desk.expert)
    # The expert may see it only once they follow it (from a link, say): not before.
    with pytest.raises(Ticket.DoesNotExist):
        selectors.ticket_get(viewer=expert, ticket_id=at_the_back.pk)
    TicketFollower.objects.create(ticket=at_the_back, user=desk.expert)
    expert = fresh(desk.expert)
    assert selectors.ticket_get(viewer=expert, ticket_id=at_the_back.pk) == at_the_back
    assert seen_by(desk.expert, following=desk.expert.pk) == [at_the_back.pk]
    # Reading is not working: no action changes it, but an internal note may be written.
    assert actions.available(ticket=at_the_back, viewer=expert) == []
    note = services.comment_add(
        ticket_id=at_the_back.pk, actor=expert, body="Check the index first.", is_internal=True
    )
    assert note.is_internal
    with pytest.raises(PermissionDenied):
        services.comment_add(ticket_id=at_the_back.pk, actor=expert, body="Hi", is_internal=False)


def test_tier1_looks_up_a_callers_tickets_by_phone_email_or_user_name(desk):
    desk.requester.phone = "+86 21 5555 0101"
    desk.requester.save(update_fields=["phone"])
    with_experts = TicketFactory(desk).queued(desk.middle, title="Report is slow")
    at_the_back = TicketFactory(desk).queued(desk.back, title="Disk full")
    bobs = TicketFactory(desk).queued(desk.back, requester=desk.other_requester, title="Bob's")
    expected = sorted([with_experts.pk, at_the_back.pk], reverse=True)
    for key in ("+86 21 5555 0101", desk.requester.email.upper(), desk.requester.username):
        assert seen_by(desk.tier1, q=key) == expected
    # Tier 1 serves unit A: Bob (unit B) is another front office's caller.
    assert bobs.pk not in seen_by(desk.tier1)
    assert seen_by(desk.outsider_agent, q=desk.requester.username) == []
    assert bobs.pk in seen_by(desk.outsider_agent)
    # Read, not change.
    assert actions.available(ticket=at_the_back, viewer=fresh(desk.tier1)) == []
    # Requesters still see only their own.
    assert seen_by(desk.other_requester) == [bobs.pk]


def test_the_workspace_follow_button_and_following_queue(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier2)
    page = client.get(reverse("workspace:ticket", args=[ticket.number]))
    assert 'data-testid="follow"' in page.content.decode()
    client.post(reverse("workspace:follow", args=[ticket.number]))
    assert TicketFollower.objects.filter(ticket=ticket, user=desk.tier2).exists()
    queue = client.get(reverse("workspace:queue_which", args=["following"]))
    assert ticket.number in queue.content.decode()
    client.post(reverse("workspace:follow", args=[ticket.number]), {"follow": "0"})
    assert not TicketFollower.objects.filter(ticket=ticket, user=desk.tier2).exists()
    # Someone else's ticket the agent cannot see: not found, nothing followed.
    hidden = TicketFactory(desk).queued(desk.back, requester=desk.other_requester)
    response = client.post(reverse("workspace:follow", args=[hidden.number]))
    assert response.status_code == 404
    assert not TicketFollower.objects.filter(ticket=hidden, user=desk.tier2).exists()
