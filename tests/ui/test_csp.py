"""Chromium enforces the Content-Security-Policy: no page of the desk violates it (issue 17, 2).

Every page kind is opened, and its scripts exercised (Bootstrap's collapse and modal, htmx,
desk.js's shortcuts), while the page records each `securitypolicyviolation` it raises and the
console reports; a violation means a blocked inline script, style or resource.
"""

from __future__ import annotations

import pytest

from tests.factories import TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""


def watch(page) -> list[str]:
    page.context.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return console


def violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def visit(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("load")
    return violations(page)


def test_agent_pages_run_without_violations(desk, open_as, live_server):
    ticket = TicketFactory(desk).queued(desk.front)
    page = open_as(desk.tier1)
    console = watch(page)
    assert visit(page, f"{live_server.url}/workspace/") == []
    page.keyboard.press("?")  # desk.js opens Bootstrap's shortcuts modal
    page.wait_for_selector("#shortcuts.show")
    assert visit(page, f"{live_server.url}/workspace/tickets/{ticket.number}/") == []
    with page.expect_navigation():
        page.click("[data-testid=action-take]")
    assert violations(page) == []
    assert visit(page, f"{live_server.url}/workspace/log/") == []
    assert console == []


def test_requester_pages_run_without_violations(desk, open_as, live_server):
    ticket = TicketFactory(desk).queued(desk.front)
    page = open_as(desk.requester)
    console = watch(page)
    assert visit(page, f"{live_server.url}/portal/") == []
    assert visit(page, f"{live_server.url}/portal/new/") == []
    page.fill("#id_title", "VPN drops")
    assert violations(page) == []
    assert visit(page, f"{live_server.url}/portal/requests/{ticket.number}/") == []
    assert visit(page, f"{live_server.url}/notifications/") == []
    assert console == []


def test_manager_admin_and_api_docs_run_without_violations(desk, open_as, live_server):
    desk.admin.is_superuser = True
    desk.admin.save()
    page = open_as(desk.admin)
    console = watch(page)
    assert visit(page, f"{live_server.url}/workspace/dashboard/") == []
    assert visit(page, f"{live_server.url}/admin/") == []
    assert visit(page, f"{live_server.url}/admin/accounts/user/") == []
    assert visit(page, f"{live_server.url}/admin/accounts/user/{desk.admin.pk}/change/") == []
    assert visit(page, f"{live_server.url}/api/docs/") == []
    page.wait_for_selector(".swagger-ui .info")  # Swagger UI started from its script file
    assert violations(page) == []
    assert console == []
