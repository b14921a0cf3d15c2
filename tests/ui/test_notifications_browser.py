"""The bell and the inbox in a real browser: the requester's bell counts up when an agent
replies, and the inbox marks one and all read."""

from __future__ import annotations

import pytest

from tests.factories import TicketFactory
from tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _bell_count(page) -> str:
    count = page.locator("[data-testid=bell-count]")
    return count.inner_text().split()[0] if count.count() else "0"


def _wait_for_count(page, expected: str) -> None:
    """Poll from Python: the page's CSP forbids the string evaluation wait_for_function uses."""
    for _ in range(150):
        if _bell_count(page) == expected:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the bell shows {_bell_count(page)}, not {expected}")


def test_the_bell_counts_an_agents_reply_and_the_inbox_marks_read(open_as, desk):
    ticket = TicketFactory(desk).in_progress(desk.front)  # committed: the receipt is in the inbox
    page = open_as(desk.requester)
    page.goto(page.url.split("/portal")[0] + f"/portal/requests/{ticket.number}/")
    page.wait_for_selector("[data-testid=bell-count]")
    _wait_for_count(page, "1")

    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="Please restart the VPN.")
    # The bell refreshes by itself (every 30 s); a reload shows it at once too.
    page.reload()
    _wait_for_count(page, "2")

    page.click("[data-testid=bell]")
    page.wait_for_selector("[data-testid=notification]")
    items = page.locator("[data-testid=notification]")
    assert items.count() == 2
    assert "New reply from the service desk" in items.nth(0).inner_text()
    assert "Please restart the VPN." in items.nth(0).inner_text()
    assert ticket.number in items.nth(1).inner_text()

    page.locator("[data-testid=mark-read]").first.click()  # HTMX: that item only
    page.locator("[data-testid=mark-read]").nth(1).wait_for(state="detached")
    assert page.locator("[data-testid=mark-read]").count() == 1
    _wait_for_count(page, "1")  # the bell heard the item was read
    with page.expect_navigation():
        page.click("[data-testid=mark-all-read]")
    assert page.locator("[data-testid=mark-read]").count() == 0
    assert page.locator("[data-testid=bell-count]").count() == 0
    # The item links to the requester's own page of the ticket.
    with page.expect_navigation():
        page.locator("[data-testid=notification] a").first.click()
    assert page.url.endswith(f"/portal/requests/{ticket.number}/")
