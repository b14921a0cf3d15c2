"""The module of an information system (issue #11): chosen on the portal's new-request form and
on the workspace's route form (grouped by system, narrowed to the chosen system in the
browser), stored on the ticket, checked against the system, and read by routing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.models import RequestType, SystemModule
from routing.classifier.text import signal_token
from routing.engine import signal_tokens, ticket_skill_keys
from routing.services import routing_correct
from tests.factories import SystemFactory, TicketFactory
from tickets import services
from tickets.models import Ticket


@pytest.fixture
def modules(desk):
    """Trading has "orders" and "quotes"; the OA system has "leave"."""
    oa = SystemFactory(code="oa", name="OA", owner_team=desk.back)
    return {
        "orders": SystemModule.objects.create(system=desk.system, code="orders", name="Orders"),
        "quotes": SystemModule.objects.create(system=desk.system, code="quotes", name="Quotes"),
        "leave": SystemModule.objects.create(system=oa, code="leave", name="Leave"),
        "oa": oa,
    }


@pytest.mark.django_db
def test_the_portal_form_offers_modules_grouped_by_system_and_stores_the_choice(
    client, desk, modules
):
    client.force_login(desk.requester)
    page = client.get(reverse("portal:new")).content.decode()
    assert '<select name="module"' in page and 'data-depends-on="system"' in page
    assert '<optgroup label="Trading">' in page and '<optgroup label="OA">' in page
    response = client.post(
        reverse("portal:new"),
        {"title": "Orders do not save", "system": desk.system.pk, "module": modules["orders"].pk},
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert (ticket.system, ticket.module) == (desk.system, modules["orders"])


@pytest.mark.django_db
def test_a_module_of_another_system_is_a_form_error_on_the_portal(client, desk, modules):
    client.force_login(desk.requester)
    response = client.post(
        reverse("portal:new"),
        {"title": "Leave request", "system": desk.system.pk, "module": modules["leave"].pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"module": ["This module belongs to another system."]}
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_module_without_a_system_brings_its_system(client, desk, modules):
    client.force_login(desk.requester)
    client.post(reverse("portal:new"), {"title": "Leave request", "module": modules["leave"].pk})
    ticket = Ticket.objects.get()
    assert (ticket.system, ticket.module) == (modules["oa"], modules["leave"])


@pytest.mark.django_db
def test_the_route_form_stores_the_module_and_refuses_a_mismatch(client, desk, modules):
    ticket = TicketFactory(desk).new(title="???")
    services.ticket_send_to_triage(ticket_id=ticket.pk, reason="low confidence")
    client.force_login(desk.tier1)
    url = reverse("workspace:act", args=[ticket.number, "route"])
    # the form HTMX fetches when the agent opens "route" on the ticket page
    form = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert '<select name="module"' in form and '<optgroup label="Trading">' in form
    fault = RequestType.objects.get(code="fault")
    wrong = client.post(
        url,
        {
            "request_type": fault.pk,
            "system": desk.system.pk,
            "module": modules["leave"].pk,
            "team": desk.middle.pk,
        },
    )
    assert wrong.status_code == 400
    assert "This module belongs to another system." in wrong.content.decode()
    ticket.refresh_from_db()
    assert (ticket.module, ticket.needs_triage) == (None, True)
    client.post(
        url,
        {
            "request_type": fault.pk,
            "system": desk.system.pk,
            "module": modules["quotes"].pk,
            "team": desk.middle.pk,
        },
    )
    ticket.refresh_from_db()
    assert (ticket.system, ticket.module, ticket.team) == (
        desk.system,
        modules["quotes"],
        desk.middle,
    )


@pytest.mark.django_db
def test_the_services_check_the_pair_and_routing_reads_the_module(desk, modules):
    ticket = TicketFactory(desk).new(title="Quotes are stale")
    with pytest.raises(ValidationError) as refused:
        routing_correct(
            ticket_id=ticket.pk, actor=desk.tier1, system=desk.system, module=modules["leave"]
        )
    assert refused.value.message_dict == {"module": ["This module belongs to another system."]}
    routed = routing_correct(
        ticket_id=ticket.pk, actor=desk.tier1, module=modules["quotes"], team=desk.front
    )
    assert (routed.system_id, routed.module_id) == (desk.system.pk, modules["quotes"].pk)
    routed = Ticket.objects.get(pk=ticket.pk)
    assert signal_token("mod", modules["quotes"].pk) in signal_tokens(routed)
    assert {"trading", "quotes"} <= ticket_skill_keys(routed)
    # Another system drops the old system's module.
    services.ticket_classify(ticket_id=ticket.pk, actor=desk.tier1, system=modules["oa"])
    assert Ticket.objects.values_list("system_id", "module_id").get(pk=ticket.pk) == (
        modules["oa"].pk,
        None,
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_module_select_follows_the_chosen_system_in_the_browser(
    open_as, live_server, desk, modules
):
    page = open_as(desk.requester)
    page.goto(live_server.url + reverse("portal:new"))
    visible = (
        "sel => Array.from(sel.querySelectorAll('optgroup'))"
        ".filter(g => !g.hidden).map(g => g.label)"
    )
    assert page.locator("select[name=module]").evaluate(visible) == ["OA", "Trading"]
    page.select_option("select[name=module]", str(modules["leave"].pk))
    page.select_option("select[name=system]", str(desk.system.pk))
    assert page.locator("select[name=module]").evaluate(visible) == ["Trading"]
    # The OA module chosen before no longer fits: it is cleared.
    assert page.locator("select[name=module]").input_value() == ""
    page.select_option("select[name=module]", str(modules["orders"].pk))
    page.fill("#id_title", "Orders do not save")
    with page.expect_navigation():
        page.click("[data-testid=submit-request]")
    ticket = Ticket.objects.get()
    assert (ticket.system_id, ticket.module_id) == (desk.system.pk, modules["orders"].pk)
