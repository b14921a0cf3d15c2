"""What the ticket and queue pages keep between requests (rendered queue rows, log entries and
replies in `workspace.rendering`, queries compiled per viewer scope in `tickets.compiled`) is
never shown stale or to the wrong person: the query decides which rows and entries a viewer
gets, the kept markup only what they look like, and anything that can change (the ticket, a
person's name, the language, the time zone, the clocks) shows on the next page."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.choices import Role
from tests.factories import TicketFactory, agent
from tickets import selectors, services
from tickets.choices import Status
from tickets.models import Ticket


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _row(html: str, ticket) -> str:
    row = html[html.index(f'data-href="{reverse("workspace:ticket", args=[ticket.number])}"') :]
    return row[: row.index("</tr>")]


def _history(html: str) -> str:
    start = html.index('data-testid="history"')
    return html[start : html.index("</ol>", start)]


def test_a_changed_ticket_shows_in_its_queue_row_on_the_next_page(client, desk):
    ticket = TicketFactory(desk).queued(desk.front, title="Printer jams")
    client.force_login(desk.tier1)
    url = reverse("workspace:queue_which", args=["all"])
    for _ in range(2):  # the second page is served from the kept row
        row = _row(_page(client, url), ticket)
        assert "Printer jams" in row and 'class="status status-queued"' in row
        assert '<td class="d-none d-xl-table-cell trunc">–</td>' in row
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    Ticket.objects.filter(pk=ticket.pk).update(title="Printer on fire", priority="P1")
    row = _row(_page(client, url), ticket)
    assert "Printer on fire" in row and "Printer jams" not in row
    assert '<span class="prio prio-P1">P1</span>' in row
    assert 'class="status status-in_progress"' in row
    assert f'<td class="d-none d-xl-table-cell trunc">{desk.tier1}</td>' in row


def test_a_renamed_person_shows_in_rows_log_entries_and_replies(client, desk):
    ticket = TicketFactory(desk).in_progress(desk.front, title="Renamed")
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="On it.")
    client.force_login(desk.tier1)
    queue = reverse("workspace:queue_which", args=["all"])
    page = reverse("workspace:ticket", args=[ticket.number])
    alice, tier1 = str(desk.requester), str(desk.tier1)
    assert f">{alice}<" in _row(_page(client, queue), ticket)
    assert f"· {tier1} ·" in _history(_page(client, page))
    desk.requester.display_name = "Alice Wong"
    desk.requester.save(update_fields=["display_name"])
    desk.tier1.display_name = "Tom Tier"
    desk.tier1.save(update_fields=["display_name"])
    row = _row(_page(client, queue), ticket)
    assert "Alice Wong" in row and f">{alice}<" not in row
    assert ">Tom Tier</td>" in row  # the assignee
    html = _page(client, page)
    assert "· Tom Tier ·" in _history(html) and f"· {tier1} ·" not in _history(html)
    conversation = html[html.index('id="conversation"') :]
    assert "<strong>Tom Tier</strong>" in conversation
    assert f"<strong>{tier1}</strong>" not in conversation


def test_each_language_and_time_zone_gets_its_own_markup(client, desk):
    ticket = TicketFactory(desk).queued(desk.front, title="Zones")
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="Looking.")
    queue = reverse("workspace:queue_which", args=["all"])
    page = reverse("workspace:ticket", args=[ticket.number])
    with translation.override("zh-hans"):
        in_progress_zh = str(dict(Status.choices)[Status.IN_PROGRESS])
        reply_zh = gettext("Public reply")
    assert in_progress_zh != "In progress"
    shanghai = timezone.localtime(ticket.created_at, timezone=timezone.get_fixed_timezone(480))
    utc = timezone.localtime(ticket.created_at, timezone=timezone.get_fixed_timezone(0))
    client.force_login(desk.tier1)
    assert f">{shanghai:%m-%d %H:%M}</time>" in _row(_page(client, queue), ticket)
    assert ">In progress</span>" in _row(_page(client, queue), ticket)
    assert f"{shanghai:%Y-%m-%d %H:%M}" in _history(_page(client, page))
    desk.tier1.time_zone = "UTC"
    desk.tier1.language = "zh-hans"
    desk.tier1.save(update_fields=["time_zone", "language"])
    client.force_login(desk.tier1)  # the language and zone are the person's from now on
    row = _row(_page(client, queue), ticket)
    assert f">{utc:%m-%d %H:%M}</time>" in row and f">{shanghai:%m-%d %H:%M}</time>" not in row
    assert f">{in_progress_zh}</span>" in row
    html = _page(client, page)
    assert f"{utc:%Y-%m-%d %H:%M}" in _history(html)
    assert f"{shanghai:%Y-%m-%d %H:%M}" not in _history(html)
    assert reply_zh in html[html.index('id="conversation"') :]


def test_rows_and_pages_only_for_viewers_who_may_see_the_ticket(client, desk):
    ticket = TicketFactory(desk).queued(desk.front, title="Front only")
    queue = reverse("workspace:queue_which", args=["all"])
    page = reverse("workspace:ticket", args=[ticket.number])
    for _ in range(2):  # after the rows and the compiled queries were kept for the team
        client.force_login(desk.tier1)
        assert "Front only" in _page(client, queue)
        assert client.get(page).status_code == 200
        client.force_login(desk.outsider_agent)  # another front office's agent
        assert "Front only" not in _page(client, queue)
        assert client.get(page).status_code == 404
    # Joining the team widens the scope from the next request on.
    desk.front.memberships.create(user=desk.outsider_agent)
    client.force_login(desk.outsider_agent)
    assert "Front only" in _page(client, queue)
    assert client.get(page).status_code == 200


def test_ticket_get_compiled_per_scope_refuses_who_may_not_see(desk):
    ticket = TicketFactory(desk).queued(desk.front)
    for _ in range(2):
        assert selectors.ticket_get(viewer=desk.tier1, number=ticket.number).pk == ticket.pk
        assert selectors.ticket_get(viewer=desk.tier1, ticket_id=ticket.pk).pk == ticket.pk
        for viewer in (desk.outsider_agent, desk.other_requester, desk.engineer):
            try:
                selectors.ticket_get(viewer=viewer, number=ticket.number)
            except Ticket.DoesNotExist:
                pass
            else:  # pragma: no cover - the assertion's message
                raise AssertionError(f"{viewer} may not see {ticket.number}")
    other = TicketFactory(desk).queued(desk.front)
    assert selectors.ticket_get(viewer=desk.requester, ticket_id=other.pk).pk == other.pk
    assert [t.pk for t in selectors.requester_other_tickets(viewer=desk.tier1, ticket=other)] == [
        ticket.pk
    ]
    assert selectors.requester_other_tickets(viewer=desk.outsider_agent, ticket=other) == []


def test_internal_notes_reach_desk_staff_only_whatever_was_kept(client, desk):
    # An agent of another front office asked for help themselves: they see their own request,
    # not as desk staff on it, so never the notes, even after the assignee's page kept them.
    insider = agent(desk.front, Role.FRONT_TIER1, username="insider")
    ticket = TicketFactory(desk).queued(desk.front, requester=desk.outsider_agent, title="Mine")
    services.ticket_take(ticket_id=ticket.pk, actor=insider)
    services.comment_add(ticket_id=ticket.pk, actor=insider, body="Secret note", is_internal=True)
    services.comment_add(ticket_id=ticket.pk, actor=insider, body="Public reply text")
    page = reverse("workspace:ticket", args=[ticket.number])
    client.force_login(insider)
    html = _page(client, page)
    assert "Secret note" in html and "Public reply text" in html
    client.force_login(desk.outsider_agent)
    html = _page(client, page)
    assert "Public reply text" in html
    assert "Secret note" not in html and "comment-internal" not in html


def test_sla_badges_are_rendered_live_in_kept_rows(
    client, desk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = TicketFactory(desk).queued(desk.front, title="Timed")
    client.force_login(desk.tier1)
    url = reverse("workspace:queue_which", args=["team"])
    row = _row(_page(client, url), ticket)
    assert 'class="sla-badge sla-running"' in row and " left" in row
    assert _row(_page(client, url), ticket) == row  # kept, nothing changed
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        client.force_login(desk.tier1)
        later = _row(_page(client, url), ticket)
    assert " left</span>" not in later and " late</span>" in later
    # everything but the clocks is the kept markup
    assert (
        later[: later.index('<td class="sla-cell">')] == row[: row.index('<td class="sla-cell">')]
    )


def test_a_comment_sent_back_with_errors_is_not_kept(client, desk):
    ticket = TicketFactory(desk).in_progress(desk.front)
    client.force_login(desk.tier1)
    page = reverse("workspace:ticket", args=[ticket.number])
    fresh = _page(client, page)
    response = client.post(reverse("workspace:comment", args=[ticket.number]), {"body": ""})
    assert response.status_code == 400
    refused = response.content.decode()
    assert "is-invalid" in refused and "is-invalid" not in fresh
    assert "is-invalid" not in _page(client, page)


def test_whether_the_viewer_follows_is_their_own(client, desk):
    # Administrators share one scope (they see everything): the follower test is per person.
    other_admin = agent(desk.front, Role.ADMINISTRATOR, username="admin2")
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_follow(ticket=ticket, actor=desk.admin)
    page = reverse("workspace:ticket", args=[ticket.number])
    for _ in range(2):
        client.force_login(desk.admin)
        assert 'data-testid="unfollow"' in _page(client, page)
        client.force_login(other_admin)
        html = _page(client, page)
        assert 'data-testid="follow"' in html and 'data-testid="unfollow"' not in html


def test_the_requesters_other_tickets_come_with_the_ticket_in_the_viewers_scope(desk):
    bob = desk.other_requester  # unit B: not served by the front office
    at_front = TicketFactory(desk).queued(desk.front, requester=bob, title="At the front")
    at_back = TicketFactory(desk).queued(desk.back, requester=bob, title="At the back")
    for _ in range(2):
        loaded = selectors.ticket_get(
            viewer=desk.tier1, ticket_id=at_front.pk, with_other_tickets=5
        )
        assert selectors.requester_other_tickets(viewer=desk.tier1, ticket=loaded) == []
        loaded = selectors.ticket_get(viewer=bob, number=at_back.number, with_other_tickets=5)
        others = selectors.requester_other_tickets(viewer=bob, ticket=loaded)
        assert [(t.number, t.title, t.status) for t in others] == [
            (at_front.number, "At the front", Status.QUEUED)
        ]
