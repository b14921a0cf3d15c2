"""Major incidents: declare, link, progress updates, outage and recovery announcements."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from incidents import services
from incidents.choices import IncidentStatus, UpdateKind
from incidents.models import IncidentAnnouncement
from incidents.selectors import active_outages_for_system, status_page, suggestions
from incidents.tasks import end_stale_outage_banners
from notifications.models import Notification
from portal.selectors import announcements_current
from tests.factories import SystemFactory, TicketFactory, UserFactory
from tickets.choices import Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(desk):
    return services.incident_declare(
        actor=desk.expert,
        title_zh="交易系统故障",
        title_en="Trading system outage",
        systems=[desk.system],
    )


def user_tickets(desk, n=3):
    requesters = [desk.requester, desk.other_requester] + [
        UserFactory(username=f"r{i}", roles=["requester"]) for i in range(n)
    ]
    return [
        TicketFactory(desk).new(requester=r, title=f"Cannot trade {i}", system=desk.system)
        for i, r in enumerate(requesters[:n])
    ]


def test_only_incident_managers_declare(desk):
    with pytest.raises(PermissionDenied):
        services.incident_declare(actor=desk.tier1, title_en="x", systems=[desk.system])


def test_declare_needs_a_title_and_a_system(desk):
    with pytest.raises(ValidationError) as error:
        services.incident_declare(actor=desk.expert, systems=[desk.system])
    assert "title_zh" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.incident_declare(actor=desk.expert, title_en="x", systems=[])
    assert "systems" in error.value.message_dict


def test_declare_from_a_ticket_uses_it(desk):
    ticket = TicketFactory(desk).new(title="Trading down", system=desk.system)
    incident = services.incident_declare(
        actor=desk.expert, title_en="Trading down", systems=[desk.system], from_ticket=ticket
    )
    assert incident.ticket == ticket
    with pytest.raises(ValidationError):
        services.incident_declare(
            actor=desk.expert, title_en="again", systems=[desk.system], from_ticket=ticket
        )


def test_suggestions_link_and_updates_reach_every_requester(desk, incident):
    tickets = user_tickets(desk)
    elsewhere = TicketFactory(desk).new(title="Printer", system=SystemFactory(code="oa"))
    suggested = suggestions(viewer=desk.expert, incident=incident)
    assert {t.pk for t in suggested} == {t.pk for t in tickets}
    assert elsewhere not in suggested
    linked = services.incident_link_tickets(
        actor=desk.expert, incident_id=incident.pk, ticket_ids=[t.pk for t in tickets]
    )
    assert sorted(linked) == sorted(t.pk for t in tickets)
    # Linking again changes nothing.
    assert (
        services.incident_link_tickets(
            actor=desk.expert, incident_id=incident.pk, ticket_ids=[t.pk for t in tickets]
        )
        == []
    )
    update = services.incident_post_update(
        actor=desk.expert, incident_id=incident.pk, body_zh="正在切换备机", body_en="Failing over"
    )
    assert update.notified == 3
    inbox = Notification.objects.filter(
        channel="inbox", dedupe_key__startswith=f"incident:{incident.pk}:update"
    )
    assert {n.recipient_id for n in inbox} == {t.requester_id for t in tickets}
    assert "Failing over" in inbox.first().body
    for ticket in tickets:
        assert ticket.events.filter(kind="incident.update", is_public=True).count() == 1


def test_outage_then_recovery_ends_the_banner_and_resolves_linked_tickets(desk, incident):
    tickets = user_tickets(desk)
    services.incident_link_tickets(
        actor=desk.expert, incident_id=incident.pk, ticket_ids=[t.pk for t in tickets]
    )
    outage = services.incident_announce_outage(
        actor=desk.expert,
        incident_id=incident.pk,
        title_zh="交易系统故障",
        title_en="Trading system outage",
        body_zh="正在处理",
        body_en="We are on it",
    )
    assert list(announcements_current()) == [outage.announcement]
    assert outage.announcement.title == "交易系统故障 / Trading system outage"
    assert [o.pk for o in active_outages_for_system(system_id=desk.system.pk)] == [outage.pk]
    rows, recent = status_page()
    assert [r.state for r in rows if r.system == desk.system] == ["outage"]
    recovery, resolved = services.incident_recover(
        actor=desk.expert,
        incident_id=incident.pk,
        resolution="Failed over to the standby database.",
        title_zh="交易系统已恢复",
        title_en="Trading system recovered",
    )
    assert resolved == 3
    outage.announcement.refresh_from_db()
    assert outage.announcement.ended_at is not None
    assert list(announcements_current()) == [recovery.announcement]
    assert active_outages_for_system(system_id=desk.system.pk) == []
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RECOVERED
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        assert ticket.status == Status.RESOLVED
        assert ticket.resolution == "Failed over to the standby database."
        assert (
            ticket.events.filter(kind="ticket.status_changed", new_value=Status.RESOLVED).count()
            == 1
        )
    assert incident.ticket.__class__.objects.get(pk=incident.ticket_id).status == Status.RESOLVED
    told = Notification.objects.filter(
        channel="inbox", dedupe_key__startswith=f"incident:{incident.pk}:recovered"
    )
    assert told.count() == 3
    rows, recent = status_page()
    assert [r.state for r in rows if r.system == desk.system] == ["operational"]
    assert [u.kind for u in recent[0].updates.all()] == [UpdateKind.RECOVERY, UpdateKind.OUTAGE]
    with pytest.raises(ValidationError):
        services.incident_recover(
            actor=desk.expert, incident_id=incident.pk, resolution="again", title_en="x"
        )


def test_affected_too_links_once(desk, incident):
    services.incident_announce_outage(actor=desk.expert, incident_id=incident.pk, title_en="Down")
    ticket, created = services.incident_report_affected(
        requester=desk.requester, incident_id=incident.pk
    )
    assert created and ticket.incident_id == incident.ticket_id
    again, created = services.incident_report_affected(
        requester=desk.requester, incident_id=incident.pk
    )
    assert (again, created) == (ticket, False)
    with pytest.raises(PermissionDenied):
        services.incident_report_affected(requester=desk.tier1, incident_id=incident.pk)


def test_end_stale_outage_banners_twice(desk, incident):
    published = services.incident_announce_outage(
        actor=desk.expert, incident_id=incident.pk, title_en="Down"
    )
    services.incident_recover(
        actor=desk.expert, incident_id=incident.pk, resolution="ok", title_en="Up"
    )
    # An outage banner re-opened by hand in the admin after the recovery.
    published.announcement.ended_at = None
    published.announcement.save()
    assert end_stale_outage_banners() == 1
    assert end_stale_outage_banners() == 0
    assert IncidentAnnouncement.objects.count() == 2


def test_a_typed_query_finds_open_tickets_anywhere_as_the_ticket_search_does(desk, incident):
    factory = TicketFactory(desk)
    other_system = SystemFactory(code="oa-search")
    printer = factory.new(title="Printers on floor 3 jam", system=other_system)
    chinese = factory.new(title="三楼打印机卡纸", system=other_system)
    by_description = factory.new(
        title="Floor 3", description="The printer shows error 50", system=other_system
    )
    unrelated = factory.new(title="Mailbox full", system=other_system)

    def found(query: str) -> set[int]:
        return {t.pk for t in suggestions(viewer=desk.expert, incident=incident, query=query)}

    assert found("printer") == {printer.pk, by_description.pk}
    assert found("打印机") == {chinese.pk}
    assert found(unrelated.number.lower()) == {unrelated.pk}
    assert found("zyxwvut") == set()
