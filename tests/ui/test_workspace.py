"""The agent workspace through Django's test client: queues, the ticket page, actions, bulk."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import RequestType
from tests.factories import TicketFactory
from tickets import actions, services
from tickets.choices import Channel, Status
from tickets.models import Ticket


def _buttons(html: str) -> list[str]:
    return re.findall(r'data-testid="action-([a-z_]+)"', html)


def test_requesters_cannot_enter_the_workspace(client, desk):
    client.force_login(desk.requester)
    assert client.get(reverse("workspace:queue")).status_code == 403


def test_queues_list_the_right_tickets(client, desk):
    mine = TicketFactory(desk).queued(desk.front, title="mine")
    services.ticket_take(ticket_id=mine.pk, actor=desk.tier1)
    unassigned = TicketFactory(desk).queued(desk.front, title="unassigned")
    TicketFactory(desk).queued(desk.middle, title="middle office")
    triage = TicketFactory(desk).new(title="unclear")
    services.ticket_send_to_triage(ticket_id=triage.pk, reason="low confidence")
    client.force_login(desk.tier1)

    def ids(url):
        return [t.pk for t in client.get(url).context["page"].rows]

    assert ids(reverse("workspace:queue")) == [mine.pk]
    assert ids(reverse("workspace:queue_which", args=["team"])) == [unassigned.pk]
    assert ids(reverse("workspace:queue_which", args=["triage"])) == [triage.pk]
    assert ids(reverse("workspace:queue_which", args=["all"]) + "?q=unassig") == [unassigned.pk]
    assert ids(reverse("workspace:queue_which", args=["all"]) + "?status=in_progress") == [mine.pk]


def test_queue_filters_survive_bad_input(client, desk):
    client.force_login(desk.tier1)
    url = reverse("workspace:queue_which", args=["all"])
    response = client.get(url + "?system=abc&team=-1&after=zzz&sort=nope")
    assert response.status_code == 200


def test_keyset_pagination_walks_forward_and_back(client, desk):
    tickets = [TicketFactory(desk).queued(desk.front, title=f"t{i}") for i in range(55)]
    newest_first = [t.pk for t in reversed(tickets)]
    client.force_login(desk.tier1)
    url = reverse("workspace:queue_which", args=["team"])
    first = client.get(url).context["page"]
    assert [t.pk for t in first.rows] == newest_first[:50] and first.prev_cursor is None
    second = client.get(url, {"after": first.next_cursor}).context["page"]
    assert [t.pk for t in second.rows] == newest_first[50:] and second.next_cursor is None
    back = client.get(url, {"before": second.prev_cursor}).context["page"]
    assert [t.pk for t in back.rows] == newest_first[:50]
    by_priority = client.get(url, {"sort": "priority"}).context["page"]
    after = client.get(url, {"sort": "priority", "after": by_priority.next_cursor}).context["page"]
    assert len(by_priority.rows) + len(after.rows) == 55
    assert not {t.pk for t in by_priority.rows} & {t.pk for t in after.rows}


def _queue_query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_queue_page_has_a_constant_query_count(client, desk, django_assert_max_num_queries):
    client.force_login(desk.tier1)
    urls = [
        reverse("workspace:queue"),
        reverse("workspace:queue_which", args=["team"]),
        reverse("workspace:queue_which", args=["triage"]),
        reverse("workspace:queue_which", args=["breached"]),
    ]
    fault = RequestType.objects.get(code="fault")

    def fill(count):
        for i in range(count):
            ticket = TicketFactory(desk).queued(desk.front, system=desk.system, request_type=fault)
            if i % 2:
                services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
            triage = TicketFactory(desk).new(system=desk.system, request_type=fault)
            services.ticket_send_to_triage(ticket_id=triage.pk, reason="unsure")

    fill(5)
    client.get(urls[0])  # warm the session
    small = [_queue_query_count(client, url) for url in urls]
    fill(55)
    large = [_queue_query_count(client, url) for url in urls]
    assert small == large
    # the person with their permissions, roles, teams and units (the session comes from the
    # cache, servicedesk/sessions.py; accounts/backends.py), the fingerprint of
    # the reference lists (workspace.reference), the page's ids, its rows with their people,
    # their SLA timers, the team's members for the bulk bar (none of the last three on the
    # breached queue, empty here)
    assert large == [6, 6, 6, 3]
    with django_assert_max_num_queries(9):
        client.get(urls[1])


def test_agent_sees_only_the_buttons_they_may_use(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert _buttons(html) == ["take", "assign", "dispatch", "escalate", "cancel", "merge"]
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert "resolve" in _buttons(html) and "take" not in _buttons(html)
    # the back office does not see the front office's ticket at all
    client.force_login(desk.engineer)
    assert client.get(reverse("workspace:ticket", args=[ticket.number])).status_code == 404


def test_manager_reads_without_action_buttons(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.manager)
    response = client.get(reverse("workspace:ticket", args=[ticket.number]))
    assert response.status_code == 200
    assert _buttons(response.content.decode()) == ["priority"]


def test_take_then_escalate_with_a_reason(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    client.post(reverse("workspace:act", args=[ticket.number, "take"]))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.IN_PROGRESS, desk.tier1)
    url = reverse("workspace:act", args=[ticket.number, "escalate"])
    missing = client.post(url, {"team": desk.middle.pk, "reason": ""})
    assert missing.status_code == 400
    assert "This field is required." in missing.content.decode()
    done = client.post(url, {"team": desk.middle.pk, "reason": "Needs an expert"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.team, ticket.tier) == (Status.QUEUED, desk.middle, "middle")
    # the agent who escalated it follows it: they keep sight of it
    assert done["Location"] == reverse("workspace:ticket", args=[ticket.number])
    assert ticket.followers.filter(user=desk.tier1).exists()


def test_a_stale_button_is_a_message_not_an_error(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier2)
    services.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier2, resolution="Done")
    client.force_login(desk.tier1)
    response = client.post(reverse("workspace:act", args=[ticket.number, "take"]), follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_manual_triage_routes_to_a_team(client, desk):
    ticket = TicketFactory(desk).new(title="???")
    services.ticket_send_to_triage(ticket_id=ticket.pk, reason="low confidence")
    client.force_login(desk.tier1)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert "route" in _buttons(html)
    fault = RequestType.objects.get(code="fault")
    client.post(
        reverse("workspace:act", args=[ticket.number, "route"]),
        {"request_type": fault.pk, "system": desk.system.pk, "team": desk.middle.pk},
    )
    ticket.refresh_from_db()
    assert (ticket.team, ticket.request_type, ticket.needs_triage) == (desk.middle, fault, False)
    # the team's assignment strategy may have given it to someone already
    assert ticket.status in (Status.QUEUED, Status.IN_PROGRESS)


def test_reply_and_internal_note_with_htmx(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    url = reverse("workspace:comment", args=[ticket.number])
    response = client.post(url, {"body": "Checking", "is_internal": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="conversation"' in response.content.decode()
    comment = ticket.comments.get()
    assert (comment.body, comment.is_internal) == ("Checking", True)


def test_log_a_phone_request_on_behalf(client, desk):
    client.force_login(desk.tier1)
    response = client.post(
        reverse("workspace:log"),
        {
            "requester": desk.requester.email,
            "channel": Channel.PHONE,
            "title": "Outlook crashes",
            "description": "",
            "impact": "4",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert (ticket.requester, ticket.created_by, ticket.channel) == (
        desk.requester,
        desk.tier1,
        Channel.PHONE,
    )
    unknown = client.post(
        reverse("workspace:log"),
        {"requester": "nobody", "channel": "im", "title": "x", "impact": "4"},
    )
    assert unknown.status_code == 200
    assert unknown.context["form"].errors["requester"]


def test_bulk_take_and_assign(client, desk):
    first = TicketFactory(desk).queued(desk.front)
    second = TicketFactory(desk).queued(desk.front)
    hidden = TicketFactory(desk).queued(desk.middle)
    client.force_login(desk.tier1)
    client.post(reverse("workspace:bulk"), {"action": "take", "ids": [first.pk, hidden.pk]})
    first.refresh_from_db()
    hidden.refresh_from_db()
    assert first.assignee == desk.tier1 and hidden.assignee is None
    client.post(
        reverse("workspace:bulk"),
        {"action": "assign", "ids": [second.pk], "assignee": desk.tier2.pk},
    )
    second.refresh_from_db()
    assert second.assignee == desk.tier2


def test_workspace_in_chinese(client, desk):
    client.force_login(desk.tier1)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/workspace/"})
    html = client.get(reverse("workspace:queue")).content.decode()
    assert "我的工单" in html


def test_queue_rows_carry_the_sla_badges(client, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = TicketFactory(desk).queued(desk.front, title="Timed")
    client.force_login(desk.tier1)
    html = client.get(reverse("workspace:queue_which", args=["team"])).content.decode()
    row = html[html.index(f'value="{ticket.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="sla-badge sla-running"' in row
    assert "First response:" in row and " left" in row
    page = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert "sla-badge sla-running" in page


def test_a_bad_filter_value_drops_only_that_filter(client, desk):
    TicketFactory(desk).queued(desk.front, title="P3 one")
    urgent = TicketFactory(desk).queued(desk.front, title="P1 one")
    Ticket.objects.filter(pk=urgent.pk).update(priority="P1")
    client.force_login(desk.tier1)
    url = reverse("workspace:queue_which", args=["team"])
    response = client.get(url, {"priority": "P1", "unit": "not-a-number"})
    assert response.status_code == 200
    assert [t.pk for t in response.context["page"].rows] == [urgent.pk]


# --- a page someone else's change made stale (decision 0003) ---------------------------------


def _versions(html: str) -> set[str]:
    """The versions a page's forms send: in the forms it holds, and in the address of each
    action form it fetches when the agent opens that action."""
    sent = {unescape(v) for v in re.findall(r'name="version" value="([^"]*)"', html)}
    fetched = re.findall(r' hx-get="[^"?]*\?version=([^"&]*)"', html)
    return sent | {unquote(unescape(v)) for v in fetched}


def test_every_action_form_carries_the_version_it_was_rendered_from(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    prefix = reverse("workspace:act", args=[ticket.number, "take"]).rsplit("take/", 1)[0]
    names = re.findall(rf'<form method="post" action="{re.escape(prefix)}([a-z_]+)/"', html)
    panels = re.findall(rf' hx-get="({re.escape(prefix)}[a-z_]+/\?version=[^"]*)"', html)
    forms = [name for name in names if name in actions.BY_NAME]
    assert len(forms) + len(panels) >= 3 and html.count('name="version"') == len(forms)
    (seen,) = _versions(html)
    assert seen == services.ticket_etag(Ticket.objects.get(pk=ticket.pk))
    # An action's form is fetched when it is opened, perhaps after someone else changed the
    # ticket: it still sends the version of the page it was opened on.
    services.ticket_set_priority(ticket_id=ticket.pk, actor=desk.admin, priority="P2", reason="x")
    for url in panels:
        fragment = client.get(unescape(url), HTTP_HX_REQUEST="true").content.decode()
        assert fragment.count("<form ") == 1 and _versions(fragment) == {seen}


def test_resolving_from_a_stale_page_is_refused_with_a_reload_message(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    client.force_login(desk.tier1)
    page = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    (seen,) = _versions(page)
    # Meanwhile a colleague takes the ticket over.
    services.ticket_assign(ticket_id=ticket.pk, actor=desk.tier2, assignee=desk.tier2)
    url = reverse("workspace:act", args=[ticket.number, "resolve"])
    response = client.post(url, {"resolution": "Reset the password", "version": seen})
    assert response.status_code == 409
    html = response.content.decode()
    assert "The ticket was changed by someone else at the same time. Reload it and try again." in (
        html
    )
    assert "Reset the password" in html  # what the agent typed is kept
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id, ticket.resolution) == (
        Status.IN_PROGRESS,
        desk.tier2.pk,
        "",
    )
    # The page now shows the ticket as it is, and its forms carry that version: sending the
    # resolution again is a decision made on what the agent now sees.
    (current,) = _versions(html)
    assert current == services.ticket_etag(ticket) != seen
    again = client.post(url, {"resolution": "Reset the password", "version": current})
    assert again.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution) == (Status.RESOLVED, "Reset the password")


def test_a_direct_action_from_a_stale_page_is_refused(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    page = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    (seen,) = _versions(page)
    services.ticket_set_priority(ticket_id=ticket.pk, actor=desk.admin, priority="P2", reason="x")
    response = client.post(
        reverse("workspace:act", args=[ticket.number, "take"]), {"version": seen}
    )
    assert response.status_code == 409
    assert [str(m) for m in response.context["messages"]] == [
        "The ticket was changed by someone else at the same time. Reload it and try again."
    ]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (Status.QUEUED, None)
