"""The main journeys in a real headless Chromium against a live server.

The tables the live server's commits fill are emptied after each test; the autouse fixture of
tests/conftest.py replays the data migrations before the next one.

A requester submits → tier 1 takes it and escalates to the middle office → the middle office
dispatches to the back office → the back office fixes → the middle office verifies → the
requester sees each step on the timeline, confirms and rates. Also: another requester cannot
open the ticket; an agent sees only the buttons they may use; Chinese shows Chinese.
"""

from __future__ import annotations

import re

import pytest

from accounts.choices import Tier
from portal.models import Rating
from tickets import services
from tickets.choices import Status
from tickets.models import Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _buttons(page) -> list[str]:
    return page.locator("[data-testid^=action-]").evaluate_all(
        "els => els.map(e => e.dataset.action)"
    )


def _go(page, selector: str) -> None:
    """Click something that loads a new page, and wait for that page (not the old one)."""
    with page.expect_navigation():
        page.click(selector)


def _open_panel(page, action: str):
    """Open an action's form and wait until it is fully shown: a click while Bootstrap's
    collapse is still animating can land on a button that is not yet clickable, and then
    nothing is submitted."""
    page.click(f"[data-testid=action-{action}]")
    page.wait_for_selector(f"#action-{action}.collapse.show")
    return page.locator(f"#action-{action}")


def _act(page, action: str, fields: dict[str, str] | None = None, selects: dict | None = None):
    panel = _open_panel(page, action)
    for name, value in (selects or {}).items():
        panel.locator(f"select[name={name}]").select_option(value)
    for name, value in (fields or {}).items():
        panel.locator(f"[name={name}]").fill(value)
    with page.expect_navigation():
        panel.locator(f"[data-testid=submit-{action}]").click()


def _to_front_office(ticket: Ticket, desk) -> None:
    """Routing (tested in tests/routing) runs on commit and may put the ticket anywhere its
    rules say; the journey starts from the front office's queue."""
    ticket.refresh_from_db()
    if ticket.status == Status.NEW:
        services.ticket_route(ticket_id=ticket.pk, actor=None, tier=Tier.FRONT, team=desk.front)
    elif ticket.team_id != desk.front.pk or ticket.assignee_id:
        services.ticket_dispatch(
            ticket_id=ticket.pk, actor=None, team=desk.front, reason="to the front office"
        )


def test_request_goes_through_every_office_and_is_confirmed(open_as, live_server, desk):
    base = live_server.url
    requester = open_as(desk.requester)
    requester.goto(f"{base}/portal/new/")
    requester.fill("#id_title", "Trading client shows error 42")
    requester.fill("#id_description", "Since this morning, on every order.")
    requester.select_option("#id_system", str(desk.system.pk))
    _go(requester, "[data-testid=submit-request]")
    assert re.search(r"/portal/requests/SD-", requester.url)
    ticket = Ticket.objects.get(title="Trading client shows error 42")
    _to_front_office(ticket, desk)

    tier1 = open_as(desk.tier1)
    tier1.goto(f"{base}/workspace/queue/team/")
    _go(tier1, f"text={ticket.number}")
    assert _buttons(tier1) == ["take", "assign", "dispatch", "escalate", "cancel", "merge"]
    _go(tier1, "[data-testid=action-take]")
    assert "resolve" in _buttons(tier1)
    _act(
        tier1,
        "escalate",
        fields={"reason": "Needs an application expert"},
        selects={"team": str(desk.middle.pk)},
    )
    ticket.refresh_from_db()
    # The middle office assigns by its strategy (round robin: its only expert) at once.
    assert (ticket.status, ticket.tier, ticket.assignee) == (
        Status.IN_PROGRESS,
        Tier.MIDDLE,
        desk.expert,
    )
    # Tier 1 who escalated it follows it, and still sees it.
    assert tier1.url.endswith(f"/workspace/tickets/{ticket.number}/")

    expert = open_as(desk.expert)
    expert.goto(f"{base}/workspace/")  # "My tickets"
    _go(expert, f"text={ticket.number}")
    _act(
        expert,
        "dispatch",
        fields={"reason": "Matching engine, owned by core systems"},
        selects={"team": str(desk.back.pk)},
    )

    engineer = open_as(desk.engineer)
    engineer.goto(f"{base}/workspace/")  # assigned by the back office's strategy
    _go(engineer, f"text={ticket.number}")
    assert (
        engineer.locator("[data-testid=action-resolve]")
        .inner_text()
        .startswith("Submit the fix for verification")
    )
    _act(engineer, "resolve", fields={"resolution": "Restarted the matching engine"})
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_VERIFICATION

    expert.goto(f"{base}/workspace/queue/verify/")
    _go(expert, f"text={ticket.number}")
    _open_panel(expert, "verify").locator("input[name=passed][value='1']").check()
    _go(expert, "[data-testid=submit-verify]")
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED

    requester.goto(f"{base}/portal/requests/{ticket.number}/")
    timeline = requester.locator("[data-testid=timeline]").inner_text()
    # Milestones in plain words; the desk's internal reasons never reach the requester.
    for step in (
        "Request received",
        "With Front office",
        "With Application experts",
        "With Core systems",
        "Fix being verified",
        "Fixed — please confirm",
    ):
        assert step in timeline
    for internal in ("Needs an application expert", "Matching engine, owned by core systems"):
        assert internal not in requester.inner_text("main")
    assert "Restarted the matching engine" in requester.inner_text(".resolution")
    _go(requester, "[data-testid=confirm]")
    requester.check("input[name=score][value='5']")
    requester.fill("textarea[name=comment]", "Fast and clear")
    _go(requester, "text=Send rating")
    assert "You rated this service 5 out of 5." in requester.inner_text("[data-testid=rating]")
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert Rating.objects.get(ticket=ticket).score == 5


def test_another_requester_gets_not_found_and_chinese_is_everywhere(open_as, live_server, desk):
    ticket, _ = services.ticket_create(
        requester=desk.requester, created_by=desk.requester, title="My laptop is slow"
    )
    _to_front_office(ticket, desk)
    stranger = open_as(desk.other_requester)
    response = stranger.goto(f"{live_server.url}/portal/requests/{ticket.number}/")
    assert response.status == 404
    assert "My laptop is slow" not in stranger.content()

    owner = open_as(desk.requester)
    owner.goto(f"{live_server.url}/portal/requests/{ticket.number}/")
    with owner.expect_navigation():
        owner.select_option("#language-select", "zh-hans")
    text = owner.inner_text("body")
    for phrase in ("我的请求", "时间线", "详情"):
        assert phrase in text
    for english in ("My requests", "Timeline", "Details", "Now with"):
        assert english not in text

    agent = open_as(desk.tier1)
    agent.goto(f"{live_server.url}/workspace/tickets/{ticket.number}/")
    with agent.expect_navigation():
        agent.select_option("#language-select", "zh-hans")
    text = agent.inner_text("body")
    for phrase in ("我的工单", "领取", "升级"):
        assert phrase in text
    for english in ("My tickets", "Take", "Escalate", "Details", "History"):
        assert english not in text
