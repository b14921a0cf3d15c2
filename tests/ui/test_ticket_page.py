"""The agent's ticket page: a fixed number of queries whatever the ticket holds or its state,
and the history, conversation and action forms built in Python (workspace.rendering,
servicedesk.fieldhtml) with every value escaped."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import TicketFactory
from tickets import services
from tickets.choices import PendingReason

# The ticket page of an agent working the ticket (bench/bench_pages.py measures the same page
# at a million tickets): session, user, permissions and roles, the viewer's teams and units,
# the ticket with its unit, whether the viewer follows it and the requester's other tickets
# (one statement), its log, replies, files and timers. The action forms, with their choices,
# are fetched when an action is opened; the people of the log and the replies are the
# ticket's own.
TICKET_PAGE_QUERIES = 9


def _queries(client, ticket) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("workspace:ticket", args=[ticket.number]))
    assert response.status_code == 200
    return len(queries)


def _busy(ticket, desk, replies=5, notes=12):
    for i in range(replies):
        services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body=f"Reply {i}")
    for i in range(notes):
        services.comment_add(
            ticket_id=ticket.pk, actor=desk.tier1, body=f"Note {i}", is_internal=True
        )


def test_the_ticket_page_costs_the_same_queries_in_every_state(client, desk):
    client.force_login(desk.tier1)
    quiet = TicketFactory(desk).queued(desk.front)
    client.get(reverse("workspace:ticket", args=[quiet.number]))  # the session, once
    counts = {"queued": _queries(client, quiet)}
    busy = TicketFactory(desk).queued(desk.front, title="Busy")
    services.ticket_take(ticket_id=busy.pk, actor=desk.tier1)
    _busy(busy, desk)
    counts["in progress, 20 entries"] = _queries(client, busy)
    services.ticket_suspend(ticket_id=busy.pk, actor=desk.tier1, reason=PendingReason.REQUESTER)
    counts["pending"] = _queries(client, busy)
    services.ticket_resume(ticket_id=busy.pk, actor=desk.tier1)
    services.ticket_resolve(ticket_id=busy.pk, actor=desk.tier1, resolution="Fixed")
    counts["resolved"] = _queries(client, busy)
    assert max(counts.values()) <= TICKET_PAGE_QUERIES, counts
    # more log entries and replies never cost more queries
    _busy(busy, desk, replies=10, notes=10)
    assert _queries(client, busy) == counts["resolved"]


def test_history_and_conversation_are_escaped(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="<b>bold</b>\nline two")
    services.comment_add(
        ticket_id=ticket.pk, actor=desk.tier1, body="Checked <i>logs</i>", is_internal=True
    )
    client.force_login(desk.tier1)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;<br>line two" in html
    assert "<i>logs</i>" not in html and "Checked &lt;i&gt;logs&lt;/i&gt;" in html
    conversation = html[html.index('id="conversation"') : html.index('class="comment-form')]
    assert conversation.count('<article class="comment') == 2
    assert '<article class="comment comment-internal">' in conversation
    history = html[html.index('data-testid="history"') :]
    history = history[: history.index("</ol>")]
    assert "Request received via" in history and "Assigned to" in history
    assert '<span class="badge text-bg-secondary">internal</span>' in history


def _panel(html: str, action: str) -> str:
    panel = html[html.index(f' id="action-{action}"') :]
    return panel[: panel.index("</div>")]


def _action_form(client, ticket, action: str) -> str:
    """What HTMX fetches into an action's panel when the agent opens it."""
    url = reverse("workspace:act", args=[ticket.number, action])
    response = client.get(url, {"version": "seen"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_the_action_forms_keep_their_choices_and_errors(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    client.force_login(desk.tier1)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    # the page holds the panels; each form is fetched when its action is opened
    assert "<form" not in _panel(html, "escalate") and " hx-get=" in _panel(html, "escalate")
    escalate = _action_form(client, ticket, "escalate")
    assert escalate.startswith('<form method="post" action="') and 'value="seen"' in escalate
    # the next team of the chain is proposed; the ticket's own team is not offered
    assert f'<option value="{desk.middle.pk}" selected>' in escalate
    assert f'<option value="{desk.front.pk}"' not in escalate
    assign = _action_form(client, ticket, "assign")
    assert f'<option value="{desk.tier2.pk}">' in assign
    url = reverse("workspace:act", args=[ticket.number, "escalate"])
    refused = client.post(url, {"team": desk.middle.pk, "reason": ""})
    assert refused.status_code == 400
    page = refused.content.decode()
    form = page[page.index(' id="action-escalate"') :]
    assert 'class="collapse show" id="action-escalate">' in page
    assert 'aria-invalid="true"' in form[: form.index("</form>")]
    assert "This field is required." in form[: form.index("</form>")]


def test_without_javascript_an_action_opens_on_its_own_page(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    client.force_login(desk.tier1)
    url = reverse("workspace:act", args=[ticket.number, "escalate"])
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert f'<a href="{url}" role="button"' in html  # the button is a link to that page
    page = client.get(url).content.decode()
    assert 'class="collapse show" id="action-escalate">' in page
    assert f'<option value="{desk.middle.pk}" selected>' in _panel(page, "escalate")
    assert "<form" not in _panel(page, "resolve")  # the others still open in place
    # an action no longer offered (the page was stale) is refused, nothing is shown
    services.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution="Fixed")
    assert "<form" not in _action_form(client, ticket, "escalate")
    response = client.get(url)
    assert response.status_code == 302
