"""The major-incident journey in a real browser: declare, link, announce (the portal's banner
shows it), recover (the banner is gone, linked tickets resolved, requesters told)."""

from __future__ import annotations

import pytest

from incidents.models import MajorIncident
from notifications.models import Notification
from tests.factories import TicketFactory
from tickets.choices import Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_declare_link_announce_recover(open_as, live_server, desk):
    base = live_server.url
    tickets = [
        TicketFactory(desk).new(title="Trading client freezes", system=desk.system),
        TicketFactory(desk).new(
            requester=desk.other_requester, title="Orders rejected", system=desk.system
        ),
    ]
    expert = open_as(desk.expert)
    expert.goto(f"{base}/workspace/")
    _submit(expert, 'nav a:text-is("Incidents")')
    _submit(expert, "[data-testid=declare-incident]")
    expert.fill("#id_title_zh", "交易系统故障")
    expert.fill("#id_title_en", "Trading system outage")
    expert.select_option("#id_systems", str(desk.system.pk))
    _submit(expert, "[data-testid=declare-form] button[type=submit]")
    incident = MajorIncident.objects.get()
    assert expert.url.endswith(f"/workspace/incidents/{incident.pk}/")

    # The suggestions are the open tickets on the system; link them all.
    for ticket in tickets:
        assert expert.is_checked(f"#link-{ticket.pk}")
    _submit(expert, "[data-testid=link-selected]")
    assert expert.inner_text("[data-testid=linked-count]") == "2"

    # The search box finds an open ticket on another system by a word of its description, as
    # the desk's ticket search does; it is linked too.
    elsewhere = TicketFactory(desk).new(
        title="Slow screens", description="The trading terminal hangs", system=None
    )
    box = expert.locator("[data-testid=link-search] input[name=q]")
    box.fill("terminal")
    with expert.expect_navigation():
        box.press("Enter")
    assert expert.is_checked(f"#link-{elsewhere.pk}")
    _submit(expert, "[data-testid=link-selected]")
    assert expert.inner_text("[data-testid=linked-count]") == "3"
    tickets.append(elsewhere)

    form = "[data-testid=announce-form]"
    expert.fill(f"{form} #id_body_zh", "交易下单失败，正在处理。")
    expert.fill(f"{form} #id_body_en", "Orders fail; we are on it.")
    _submit(expert, f"{form} button[type=submit]")
    assert expert.inner_text("[data-testid=incident-status]") == "Outage announced"

    requester = open_as(desk.requester)
    requester.goto(f"{base}/portal/")
    banner = requester.locator(".announcement-fault")
    assert "交易系统故障 / Trading system outage" in banner.inner_text()
    # Picking the system on the new-request form shows the outage and "affected too".
    requester.goto(f"{base}/portal/new/")
    requester.select_option("#id_system", str(desk.system.pk))
    requester.wait_for_selector("[data-testid=affected-too]")

    form = "[data-testid=recover-form]"
    expert.fill(f"{form} #id_title_zh", "交易系统已恢复")
    expert.fill(f"{form} #id_title_en", "Trading system recovered")
    expert.fill(f"{form} #id_resolution", "Switched to the standby database.")
    _submit(expert, f"{form} button[type=submit]")
    assert expert.inner_text("[data-testid=incident-status]") == "Recovered"

    requester.goto(f"{base}/portal/")
    assert requester.locator(".announcement-fault").count() == 0
    assert "Trading system recovered" in requester.inner_text(".announcement-recovery")
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        assert ticket.status == Status.RESOLVED
        assert ticket.resolution == "Switched to the standby database."
    told = Notification.objects.filter(dedupe_key__startswith=f"incident:{incident.pk}:recovered")
    assert {n.recipient_id for n in told.filter(channel="inbox")} == {
        desk.requester.pk, desk.other_requester.pk,
    }  # fmt: skip

    requester.goto(f"{base}/status/")
    assert (
        requester.locator(f"[data-system={desk.system.code}] [data-state]").get_attribute(
            "data-state"
        )
        == "operational"
    )
