"""The incident pages, the portal's outage notice and "affected too", and the status page."""

from __future__ import annotations

import pytest
from django.test import override_settings

from alerts.models import Alert
from incidents import services
from incidents.models import MajorIncident
from tests.factories import TicketFactory
from tickets.choices import Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(desk):
    return services.incident_declare(
        actor=desk.expert, title_zh="交易系统故障", title_en="Trading outage", systems=[desk.system]
    )


def test_incident_pages_are_for_incident_managers(client, desk, incident):
    client.force_login(desk.tier1)
    assert client.get("/workspace/incidents/").status_code == 403
    assert client.get(f"/workspace/incidents/{incident.pk}/").status_code == 403
    assert client.post(f"/workspace/incidents/{incident.pk}/recover/").status_code == 403
    client.force_login(desk.expert)
    page = client.get("/workspace/incidents/")
    assert page.status_code == 200 and "Trading outage" in page.content.decode()
    assert 'href="/workspace/incidents/"' in page.content.decode()  # the menu line


def test_declare_page_with_errors_and_from_a_ticket(client, desk):
    client.force_login(desk.expert)
    answer = client.post(
        "/workspace/incidents/declare/", {"impact": "1", "service_state": "outage"}
    )
    assert answer.status_code == 200
    assert set(answer.context["form"].errors) >= {"systems"}
    ticket = TicketFactory(desk).new(title="Trading down", system=desk.system)
    form = client.get(f"/workspace/incidents/declare/?ticket={ticket.number}")
    assert form.context["form"].initial["title_zh"] == "Trading down"
    answer = client.post(
        "/workspace/incidents/declare/",
        {"title_en": "Trading down", "systems": [desk.system.pk], "impact": "1",
         "service_state": "outage", "ticket": ticket.number},
    )  # fmt: skip
    incident = MajorIncident.objects.get()
    assert (
        answer.status_code == 302 and answer["Location"] == f"/workspace/incidents/{incident.pk}/"
    )
    assert incident.ticket == ticket
    answer = client.post(
        "/workspace/incidents/declare/",
        {"title_en": "x", "systems": [desk.system.pk], "impact": "1", "service_state": "outage",
         "ticket": "SD-0000-404"},
    )  # fmt: skip
    assert "ticket" in answer.context["form"].errors


def test_link_update_announce_recover_through_the_pages(client, desk, incident):
    tickets = [
        TicketFactory(desk).new(title=f"Trading error {i}", system=desk.system) for i in range(3)
    ]
    client.force_login(desk.expert)
    page = client.get(f"/workspace/incidents/{incident.pk}/")
    assert {t.pk for t in page.context["suggestions"]} == {t.pk for t in tickets}
    client.post(f"/workspace/incidents/{incident.pk}/link/", {"tickets": [t.pk for t in tickets]})
    assert Ticket.objects.filter(incident=incident.ticket).count() == 3
    bad = client.post(f"/workspace/incidents/{incident.pk}/update/", {"body_zh": "", "body_en": ""})
    assert bad.status_code == 200 and bad.context["update_form"].errors
    client.post(f"/workspace/incidents/{incident.pk}/update/", {"body_en": "Failing over"})
    client.post(
        f"/workspace/incidents/{incident.pk}/announce/",
        {"title_zh": "交易系统故障", "title_en": "Trading outage", "body_en": "Working on it"},
    )
    portal = client.get("/portal/")
    client.force_login(desk.requester)
    home = client.get("/portal/").content.decode()
    assert "交易系统故障 / Trading outage" in home
    client.force_login(desk.expert)
    bad = client.post(f"/workspace/incidents/{incident.pk}/recover/", {"title_en": "Back"})
    assert "resolution" in bad.context["recover_form"].errors
    client.post(
        f"/workspace/incidents/{incident.pk}/recover/",
        {"title_en": "Trading recovered", "resolution": "Standby database took over."},
    )
    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("status", flat=True)
    ) == {Status.RESOLVED}
    client.force_login(desk.requester)
    home = client.get("/portal/").content.decode()
    assert "Trading recovered" in home and "Trading outage" not in home
    assert portal.status_code == 200


def test_portal_outage_notice_and_affected_too(client, desk, incident):
    client.force_login(desk.requester)
    assert client.get(f"/portal/outages/?system={desk.system.pk}").content.decode().strip() == ""
    services.incident_announce_outage(
        actor=desk.expert, incident_id=incident.pk, title_en="Trading outage"
    )
    notice = client.get(f"/portal/outages/?system={desk.system.pk}").content.decode()
    assert "Trading outage" in notice and f"/portal/incidents/{incident.pk}/affected/" in notice
    assert client.get("/portal/outages/?system=abc").status_code == 200
    assert 'hx-get="/portal/outages/"' in client.get("/portal/new/").content.decode()
    answer = client.post(f"/portal/incidents/{incident.pk}/affected/", {"description": "me too"})
    ticket = Ticket.objects.get(requester=desk.requester, incident=incident.ticket)
    assert answer["Location"] == f"/portal/requests/{ticket.number}/"
    assert client.get("/portal/incidents/99999/affected/").status_code == 404


def test_status_page_needs_login_unless_public(client, desk, incident):
    services.incident_announce_outage(
        actor=desk.expert, incident_id=incident.pk, title_en="Trading outage"
    )
    assert client.get("/status/").status_code == 302
    with override_settings(STATUS_PAGE_PUBLIC=True):
        page = client.get("/status/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-state="outage"' in html and "Trading outage" in html
    client.force_login(desk.requester)
    assert client.get("/status/").status_code == 200


def test_status_page_query_budget(client, desk, incident, django_assert_max_num_queries):
    services.incident_announce_outage(actor=desk.expert, incident_id=incident.pk, title_en="Down")
    client.force_login(desk.requester)
    with django_assert_max_num_queries(12):
        client.get("/status/")


def test_alerts_page_for_staff(client, desk):
    client.force_login(desk.expert)
    assert client.get("/workspace/alerts/").status_code == 200
    client.force_login(desk.requester)
    assert client.get("/workspace/alerts/").status_code == 403
    assert not Alert.objects.exists()


def test_status_page_and_portal_notice_in_chinese(client, desk, incident):
    services.incident_announce_outage(
        actor=desk.expert, incident_id=incident.pk, title_zh="交易系统故障", title_en="Outage"
    )
    client.force_login(desk.requester)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/status/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "服务状态" in html and "故障" in html and "交易系统故障" in html
    notice = client.get(
        f"/portal/outages/?system={desk.system.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "报告我也受影响" in notice
