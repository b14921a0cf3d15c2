"""The service catalogue: the page and its search, a service's form with typed and conditional
fields, structured answers on the ticket (table, API), routing from the service's mapping
(skipping the classifier), requester-stated impact capped at P2, on-behalf logging, retiring."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from servicecatalog.models import Service, ServiceRequest
from servicecatalog.seed import catalogue_seed
from servicecatalog.services import service_retire
from tickets.choices import EventKind, Priority, Status
from tickets.models import Ticket, TicketEvent

VPN = {
    "purpose": "remote",
    "until": "2030-01-31",
    "devices": ["laptop", "phone"],
    "why": "Working from home on Fridays",
}


@pytest.fixture
def catalogue(desk):
    assert catalogue_seed() == 15
    assert catalogue_seed() == 15  # idempotent
    Service.objects.filter(team__isnull=True).update(team=desk.front)
    Service.objects.filter(code="vpn-access").update(team=desk.front, system=desk.system)
    return {s.code: s for s in Service.objects.all()}


def _submit(client, code, data, **extra):
    return client.post(reverse("servicecatalog:service", args=[code]), data, **extra)


def test_catalogue_groups_and_search(client, desk, catalogue, django_assert_max_num_queries):
    client.force_login(desk.requester)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("servicecatalog:catalogue")).content.decode()
    assert page.count('data-testid="service-group"') == 5
    assert 'data-testid="service-vpn-access"' in page
    found = client.get(reverse("servicecatalog:catalogue"), {"q": "vpn"}).content.decode()
    assert 'data-testid="service-vpn-access"' in found and "service-password-reset" not in found
    zh = client.get(reverse("servicecatalog:catalogue"), {"q": "密码"}).content.decode()
    assert "service-password-reset" in zh
    none = client.get(reverse("servicecatalog:catalogue"), {"q": "zzz"}).content.decode()
    assert 'data-testid="no-services"' in none
    data = client.get(reverse("servicecatalog:data")).content.decode()
    assert "Customer master data (CRM)" in data and "data-extract" in data


def test_request_through_vpn_form_routes_from_the_mapping(
    client, desk, catalogue, django_capture_on_commit_callbacks
):
    client.force_login(desk.requester)
    form = client.get(reverse("servicecatalog:service", args=["vpn-access"])).content.decode()
    assert 'data-show-if="purpose" data-show-value="vendor"' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = _submit(client, "vpn-access", VPN)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response.url == reverse("portal:request", args=[ticket.number])
    answers = ServiceRequest.objects.get(ticket=ticket).answers
    assert [(a["key"], a["value"], a["display"]) for a in answers] == [
        ("purpose", "remote", "Remote work"),
        ("until", "2030-01-31", "2030-01-31"),
        ("devices", ["laptop", "phone"], "Laptop, Phone"),
        ("why", "Working from home on Fridays", "Working from home on Fridays"),
    ]
    # Routed from the mapping, not by the classifier, and assigned by the team's strategy.
    assert (ticket.status, ticket.team, ticket.request_type.code, ticket.category.code) == (
        Status.IN_PROGRESS,
        desk.front,
        "account_permission",
        "network-vpn",
    )
    assert ticket.system == desk.system and ticket.classification_confidence == 1.0
    assert TicketEvent.objects.filter(ticket=ticket, data__service="vpn-access").exists()
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CLASSIFIED).exists()
    # The agent sees the answers as a table (the lazily loaded include); others get a 404.
    client.force_login(desk.tier1)
    page = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert reverse("servicecatalog:answers", args=[ticket.number]) in page
    table = client.get(reverse("servicecatalog:answers", args=[ticket.number])).content.decode()
    assert 'data-answer="devices">Laptop, Phone<' in table
    api = client.get(reverse("api-catalogue-answers", args=[ticket.number])).json()
    assert api["service"] == "vpn-access" and api["answers"] == answers
    client.force_login(desk.other_requester)
    assert client.get(reverse("servicecatalog:answers", args=[ticket.number])).status_code == 404
    assert client.get(reverse("api-catalogue-answers", args=[ticket.number])).status_code == 404


def test_bad_input_is_a_form_error_and_nothing_is_created(client, desk, catalogue, settings):
    client.force_login(desk.requester)
    cases = {
        "until": ({**VPN, "until": "next friday"}, "Enter a valid date."),
        "why": ({**VPN, "why": ""}, "This field is required."),
        "vendor": ({**VPN, "vendor": "ACME"}, "This field does not apply to your answers."),
        "purpose": (
            {**VPN, "purpose": "hack"},
            "Select a valid choice. hack is not one of the available choices.",
        ),
    }
    for field, (data, message) in cases.items():
        page = _submit(client, "vpn-access", data)
        assert page.status_code == 200, field
        assert page.context["form"].errors[field] == [message]
    # A conditional field that applies is then required.
    page = _submit(client, "vpn-access", {**VPN, "purpose": "vendor"})
    assert page.context["form"].errors["vendor"] == ["This field is required."]
    # A file over the limit.
    settings.SERVICECATALOG = {**settings.SERVICECATALOG, "FILE_MAX_BYTES": 10}
    page = _submit(
        client,
        "printer-problem",
        {
            "where": "3F",
            "impact": "3",
            "urgency": "3",
            "photo": SimpleUploadedFile("p.png", b"x" * 11),
        },
    )
    assert page.context["form"].errors["photo"] == ["The file is too large: at most 10 bytes."]
    assert not Ticket.objects.exists()
    # The API answers with JSON field messages.
    bad = client.post(
        reverse("api-catalogue-request", args=["vpn-access"]),
        {**VPN, "until": 5, "vendor": "ACME"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "until": ["Enter a valid date."],
        "vendor": ["This field does not apply to your answers."],
    }
    assert (
        client.post(
            reverse("api-catalogue-request", args=["nope"]), {}, content_type="application/json"
        ).status_code
        == 404
    )
    assert not Ticket.objects.exists()


def test_requester_stated_impact_is_capped_at_p2_an_agent_may_give_p1(
    client, desk, catalogue, django_capture_on_commit_callbacks
):
    client.force_login(desk.requester)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("api-catalogue-request", args=["printer-problem"]),
            {"where": "3F", "impact": 1, "urgency": 1},
            content_type="application/json",
        )
    assert created.status_code == 201
    ticket = Ticket.objects.get(number=created.json()["ticket"])
    assert (ticket.impact, ticket.urgency, ticket.priority) == (1, 1, Priority.P2)
    # An agent logging it on the caller's behalf may state P1.
    client.force_login(desk.tier1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("servicecatalog:on_behalf", args=["printer-problem"]),
            {"requester": desk.requester.username, "where": "5F", "impact": "1", "urgency": "1"},
        )
    assert response.status_code == 302
    logged = Ticket.objects.exclude(pk=ticket.pk).get()
    assert (logged.priority, logged.requester, logged.created_by) == (
        Priority.P1,
        desk.requester,
        desk.tier1,
    )
    assert ServiceRequest.objects.get(ticket=logged).by_agent is True


def test_on_behalf_needs_the_capability_and_a_real_requester(client, desk, catalogue):
    client.force_login(desk.requester)
    assert client.get(reverse("servicecatalog:on_behalf", args=["vpn-access"])).status_code == 403
    assert client.get(reverse("servicecatalog:agent_catalogue")).status_code == 403
    client.force_login(desk.tier1)
    assert (
        "on-behalf-vpn-access"
        in client.get(reverse("servicecatalog:agent_catalogue")).content.decode()
    )
    page = client.post(
        reverse("servicecatalog:on_behalf", args=["vpn-access"]), {**VPN, "requester": "ghost"}
    )
    assert page.context["form"].errors["requester"] == ["No such user."]


def test_retired_service_leaves_the_catalogue(client, desk, catalogue):
    service_retire(service_id=catalogue["vpn-access"].pk, actor=desk.admin)
    client.force_login(desk.requester)
    assert (
        "service-vpn-access" not in client.get(reverse("servicecatalog:catalogue")).content.decode()
    )
    assert client.get(reverse("servicecatalog:service", args=["vpn-access"])).status_code == 404
    codes = [s["code"] for s in client.get(reverse("api-catalogue-services")).json()]
    assert "vpn-access" not in codes and len(codes) == 14


def test_api_service_detail_lists_typed_fields(client, desk, catalogue):
    client.force_login(desk.requester)
    detail = client.get(reverse("api-catalogue-service", args=["vpn-access"])).json()
    assert [(f["key"], f["kind"], f["required"]) for f in detail["fields"]] == [
        ("purpose", "choice", True),
        ("vendor", "text", True),
        ("until", "date", True),
        ("devices", "multi_choice", False),
        ("why", "long_text", True),
    ]
    assert detail["fields"][1]["show_if"] == "purpose"


def test_admin_builds_a_form_without_code_and_retires_a_service(client, desk, catalogue):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    vpn = catalogue["vpn-access"]
    page = client.get(reverse("admin:servicecatalog_service_change", args=[vpn.pk]))
    assert page.status_code == 200 and 'name="fields-0-key"' in page.content.decode()
    assert client.get(reverse("admin:servicecatalog_service_add")).status_code == 200
    response = client.post(
        reverse("admin:servicecatalog_service_changelist"),
        {"action": "retire", "_selected_action": [vpn.pk]},
    )
    assert response.status_code == 302
    vpn.refresh_from_db()
    assert vpn.is_active is False and vpn.retired_at is not None


def test_the_services_sla_policy_sets_the_level(
    client, desk, catalogue, django_capture_on_commit_callbacks
):
    from sla.models import SlaPolicy

    policy = SlaPolicy.objects.filter(priority=Priority.P2, request_type__isnull=True).first()
    Service.objects.filter(code="general-question").update(sla_policy=policy)
    client.force_login(desk.requester)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(client, "general-question", {"question": "How do I export my mailbox?"})
    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.P2  # the defaults (minor × medium) alone give P4
    assert TicketEvent.objects.filter(ticket=ticket, data__service="general-question").exists()
