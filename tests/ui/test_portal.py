"""The requester portal through Django's test client: submit, follow, answer, confirm, rate."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portal.models import Announcement, Rating
from portal.services import ticket_rate
from tests.factories import TicketFactory
from tickets import services
from tickets.choices import Channel, EventKind, PendingReason, Status
from tickets.models import Ticket, TicketEvent


def test_submit_a_request(client, desk):
    client.force_login(desk.requester)
    response = client.post(
        reverse("portal:new"),
        {
            "title": "Cannot open the trading client",
            "description": "Error 42",
            "system": desk.system.pk,
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:request", args=[ticket.number])
    assert (ticket.channel, ticket.created_by, ticket.requester) == (
        Channel.PORTAL,
        desk.requester,
        desk.requester,
    )
    assert ticket.system == desk.system


def test_a_double_submit_of_one_form_opens_one_ticket(client, desk):
    client.force_login(desk.requester)
    page = client.get(reverse("portal:new")).content.decode()
    token = re.search(r'name="form_token" value="([0-9a-f]{32})"', page).group(1)
    form = {"title": "VPN drops", "description": "Every hour", "form_token": token}
    first = client.post(reverse("portal:new"), form)
    second = client.post(reverse("portal:new"), form)
    ticket = Ticket.objects.get()
    assert (
        first["Location"] == second["Location"] == reverse("portal:request", args=[ticket.number])
    )
    # A new form (a new token) is a new request.
    again = client.get(reverse("portal:new")).content.decode()
    assert token not in again
    client.post(reverse("portal:new"), {"title": "Printer jams", "form_token": "f" * 32})
    assert Ticket.objects.count() == 2


def test_submit_without_title_shows_the_error(client, desk):
    client.force_login(desk.requester)
    response = client.post(reverse("portal:new"), {"title": "  ", "description": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors["title"] == ["This field is required."]
    assert not Ticket.objects.exists()


def test_home_lists_only_my_requests(client, desk):
    mine = TicketFactory(desk).new(title="Mine")
    TicketFactory(desk).new(requester=desk.other_requester, title="Not mine")
    client.force_login(desk.requester)
    response = client.get(reverse("portal:home"))
    assert [t.pk for t in response.context["page"].rows] == [mine.pk]


def test_another_requesters_ticket_is_not_found(client, desk):
    ticket = TicketFactory(desk).new(requester=desk.other_requester)
    client.force_login(desk.requester)
    assert client.get(reverse("portal:request", args=[ticket.number])).status_code == 404
    response = client.post(reverse("portal:reply", args=[ticket.number]), {"body": "hi"})
    assert response.status_code == 404


def test_timeline_shows_who_has_it_and_hides_internal_notes(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="secret", is_internal=True)
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="Looking into it")
    client.force_login(desk.requester)
    response = client.get(reverse("portal:request", args=[ticket.number]))
    html = response.content.decode()
    headlines = [e.headline for e in response.context["entries"]]
    # Milestones in plain words, not the desk's routing plumbing (who exactly, which tier).
    assert headlines == [
        "Request received",
        "With Front office",
        "Being worked on",
        "Reply from the service desk",
    ]
    assert "Looking into it" in html and "secret" not in html
    assert response.context["stage_index"] == 2


def test_answering_a_question_resumes_the_ticket(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.ticket_suspend(
        ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.REQUESTER, note="Which PC?"
    )
    client.force_login(desk.requester)
    page = client.get(reverse("portal:request", args=[ticket.number]))
    assert page.context["waiting_on_me"] is True
    client.post(reverse("portal:reply", args=[ticket.number]), {"body": "PC-042"})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_confirm_reject_and_withdraw(client, desk):
    client.force_login(desk.requester)
    first = TicketFactory(desk).queued(desk.front, title="one")
    services.ticket_take(ticket_id=first.pk, actor=desk.tier1)
    services.ticket_resolve(ticket_id=first.pk, actor=desk.tier1, resolution="Done")
    client.post(reverse("portal:reject", args=[first.number]), {"reason": "Still broken"})
    first.refresh_from_db()
    assert first.status == Status.IN_PROGRESS and first.reopen_count == 1
    services.ticket_resolve(ticket_id=first.pk, actor=desk.tier1, resolution="Really done")
    client.post(reverse("portal:confirm", args=[first.number]))
    first.refresh_from_db()
    assert first.status == Status.CLOSED
    second = TicketFactory(desk).new(title="two")
    client.post(reverse("portal:withdraw", args=[second.number]), {"note": "solved myself"})
    second.refresh_from_db()
    assert second.status == Status.CANCELLED


def test_an_impossible_action_is_a_message_not_an_error(client, desk):
    ticket = TicketFactory(desk).new()
    client.force_login(desk.requester)
    response = client.post(reverse("portal:confirm", args=[ticket.number]), follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_rate_once_closed(client, desk):
    ticket = TicketFactory(desk).closed()
    client.force_login(desk.requester)
    first = client.post(
        reverse("portal:rate", args=[ticket.number]),
        {"score": "4", "comment": "Quick"},
        follow=True,
    )
    assert [str(m) for m in first.context["messages"]] == ["Thank you for your feedback."]
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.rated_by) == (4, "Quick", desk.requester)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.SURVEY)
    assert (event.new_value, event.actor) == (4, desk.requester)
    response = client.post(
        reverse("portal:rate", args=[ticket.number]), {"score": "1"}, follow=True
    )
    assert Rating.objects.filter(ticket=ticket).count() == 1
    assert [str(m) for m in response.context["messages"]] == ["This ticket has already been rated."]


def test_rate_guards(desk):
    open_ticket = TicketFactory(desk).new()
    with pytest.raises(ValidationError):
        ticket_rate(ticket_id=open_ticket.pk, actor=desk.requester, score=5)
    closed = TicketFactory(desk).closed()
    with pytest.raises(PermissionDenied):
        ticket_rate(ticket_id=closed.pk, actor=desk.other_requester, score=5)
    with pytest.raises(ValidationError):
        ticket_rate(ticket_id=closed.pk, actor=desk.requester, score=6)


def test_announcements_banner(client, desk):
    client.force_login(desk.requester)
    empty = client.get(reverse("portal:home")).content.decode()
    assert "All systems are running normally." in empty
    Announcement.objects.create(kind="fault", title="Trading system outage", system=desk.system)
    html = client.get(reverse("portal:home")).content.decode()
    assert "Trading system outage" in html and "All systems are running normally." not in html


def test_home_redirects_each_side(client, desk):
    client.force_login(desk.requester)
    assert client.get("/")["Location"] == reverse("portal:home")
    client.force_login(desk.tier1)
    assert client.get("/")["Location"] == reverse("workspace:queue")


def test_portal_in_chinese(client, desk):
    client.force_login(desk.requester)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/portal/"})
    html = client.get(reverse("portal:home")).content.decode()
    assert "我的请求" in html


def test_submit_with_attachments_and_a_refused_file(client, desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(desk.requester)
    good = SimpleUploadedFile("error.txt", b"Error 42 at 09:00\n", content_type="text/plain")
    bad = SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(
        reverse("portal:new"),
        {"title": "Client crashes", "attachments": [good, bad]},
        follow=True,
    )
    ticket = Ticket.objects.get()
    assert [a.filename for a in ticket.attachments.all()] == ["error.txt"]
    messages = [str(m) for m in response.context["messages"]]
    assert messages[0].startswith("tool.exe was not attached: Files of this type are not accepted.")
    assert "error.txt" in response.content.decode()


def test_the_timeline_refreshes_as_a_partial(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.requester)
    url = reverse("portal:request", args=[ticket.number])
    assert 'hx-trigger="every 30s"' in client.get(url).content.decode()
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    partial = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline")
    html = partial.content.decode()
    assert html.startswith('<ol class="timeline"') and "Being worked on" in html
