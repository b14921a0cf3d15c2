"""`GET /api/tickets/` from plain rows (tickets/api/listing.py): the same bytes as
TicketListSerializer gives for the same tickets, page by page, in both languages and any time
zone; the same filters, scope and cursors; a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient, APIRequestFactory

from accounts.choices import Role
from catalog.models import InformationSystem
from tests.factories import TicketFactory, UserFactory, client_for, request_type
from tickets import selectors
from tickets.api import listing
from tickets.api.serializers import TicketListQuerySerializer, TicketListSerializer
from tickets.choices import Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def render(data) -> bytes:
    return JSONRenderer().render(data)


@pytest.fixture
def varied(desk):
    """Tickets with every kind of value a row shows: Chinese and English text, every relation
    set or empty, people named by display name, full name or user name only, times with and
    without microseconds, several statuses."""
    desk.back.name_zh = "核心系统"
    desk.back.save(update_fields=["name_zh"])
    desk.unit_a.name_zh = "甲单位"
    desk.unit_a.save(update_fields=["name_zh"])
    erp = InformationSystem.objects.create(
        code="erp", name="ERP", name_zh="企业资源计划", owner_team=desk.back
    )
    named_only = UserFactory(
        username="dora", display_name="", first_name="Dora", last_name="Li", roles=[Role.REQUESTER]
    )
    nameless = UserFactory(
        username="carol", display_name="", first_name="", last_name="", roles=[Role.REQUESTER]
    )
    factory = TicketFactory(desk)
    made = [
        factory.new(title="打印机卡纸了，第二个纸盒", description="纸盒二。\n又一次。"),
        factory.new(requester=named_only, title="VPN drops every hour"),
        factory.new(requester=nameless, title="Nothing else known"),
        factory.queued(desk.front, title="邮箱满了 (mailbox full)"),
        factory.in_progress(title="Trading screen frozen"),
        factory.resolved(title="Password reset"),
        factory.closed(title="Old one"),
    ]
    Ticket.objects.filter(pk=made[0].pk).update(
        status=Status.PENDING,
        pending_reason="vendor",
        priority="P1",
        channel="email",
        tier="back",
        needs_triage=True,
        assignee=desk.engineer,
        team=desk.back,
        request_type=request_type("fault"),
        system=erp,
        unit=desk.unit_a,
        created_at=datetime(2026, 3, 1, 2, 3, 4, 567890, tzinfo=UTC),
        updated_at=datetime(2026, 3, 2, 16, 0, 0, tzinfo=UTC),
    )
    Ticket.objects.filter(pk=made[2].pk).update(
        unit=None, assignee=nameless, created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return made


def serializer_bytes(viewer, queryset=None) -> bytes:
    """What TicketListSerializer gives for the viewer's tickets, newest first."""
    tickets = list(queryset if queryset is not None else selectors.ticket_list(viewer=viewer))
    return render(TicketListSerializer(tickets, many=True).data)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_rows_are_the_serializers_bytes(desk, varied, language, zone):
    pages = selectors.ticket_id_pages(viewer=desk.admin, select=listing.page_sql)
    page = pages.order_by("-id")[0:200]
    assert len(page) == Ticket.objects.count() >= len(varied)
    with translation.override(language), timezone.override(ZoneInfo(zone)):
        expected = serializer_bytes(desk.admin)
        assert render(listing.page_rows(page)) == expected
    assert "核心系统".encode() in expected or language == "en"


def test_every_page_of_the_api_is_the_serializers_page(desk, varied):
    for viewer in (desk.admin, desk.tier1, desk.requester, desk.manager, desk.engineer):
        client = client_for(viewer)
        url, pages = "/api/tickets/?page_size=2", []
        while url:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            assert response.status_code == 200
            pages.append(response.json()["results"])
            url = response.json()["next"]
        sent = [row for page in pages for row in page]
        with translation.override("zh-hans"):
            expected = TicketListSerializer(
                list(selectors.ticket_list(viewer=viewer)), many=True
            ).data
        assert render(sent) == render(expected), viewer.username
        assert all(len(page) <= 2 for page in pages)


@pytest.mark.parametrize(
    "query",
    [
        "status=queued,in_progress",
        "open=true",
        "priority=P1",
        "request_type=fault",
        "q=打印机",
        "q=vpn",
        "assignee=me",
        "unassigned=true",
        "needs_triage=true",
    ],
)
def test_filters_choose_the_same_tickets_as_before(desk, varied, query):
    viewer = desk.admin if "me" not in query else desk.engineer
    response = client_for(viewer).get(f"/api/tickets/?{query}")
    assert response.status_code == 200
    request = APIRequestFactory().get(f"/api/tickets/?{query}")
    request.user = viewer
    request.query_params = QueryDict(query)
    filters = listing.list_filters(request)
    expected = TicketListSerializer(
        list(selectors.ticket_list(viewer=viewer, filters=filters)), many=True
    ).data
    assert response.json()["results"] == expected
    assert expected or query in ("unassigned=true",)


def test_bad_filters_are_still_400_with_field_messages(desk):
    response = client_for(desk.admin).get("/api/tickets/?status=nonsense&unit=x")
    assert response.status_code == 400
    assert set(response.json()) == {"status", "unit"}


def test_no_filters_is_what_the_serializer_validates_an_empty_query_to(desk):
    request = APIRequestFactory().get("/api/tickets/")
    request.user = desk.admin
    for query in ("", "cursor=abc&page_size=3"):
        serializer = TicketListQuerySerializer(data=QueryDict(query), context={"request": request})
        assert serializer.is_valid()
        assert dict(serializer.validated_data) == listing.NO_FILTERS


def test_a_forged_cursor_is_still_404(desk, varied):
    client = client_for(desk.admin)
    assert client.get("/api/tickets/?cursor=cD1hYmM%3D").status_code == 404


@pytest.mark.parametrize(
    ("viewer", "queries"),
    [
        # the person with their permissions; the page with its rows, their people and the
        # names of their teams, request types, systems and units (tickets.keyset, listing)
        ("admin", 2),
        # the same for an agent: their teams and units come with the person when signed in by
        # session (accounts/backends.py; tickets.selectors.load_viewer_scope)
        ("tier1", 2),
    ],
)
def test_a_signed_in_list_page_costs_a_fixed_number_of_queries(desk, viewer, queries):
    factory = TicketFactory(desk)
    for i in range(60):
        factory.queued(desk.front, title=f"queue {i}")
    client = APIClient()
    client.force_login(getattr(desk, viewer))  # a browser's session, read from the cache
    client.get("/api/tickets/")
    with CaptureQueriesContext(connection) as first:
        response = client.get("/api/tickets/")
    assert response.status_code == 200 and len(response.json()["results"]) == 50
    with CaptureQueriesContext(connection) as deep:
        assert len(client.get(response.json()["next"]).json()["results"]) == 10
    assert (len(first), len(deep)) == (queries, queries)


def test_a_requester_sees_only_their_own_rows(desk, varied):
    other = TicketFactory(desk).new(requester=desk.other_requester, title="Not alice's")
    ids = [row["id"] for row in client_for(desk.requester).get("/api/tickets/").json()["results"]]
    assert other.pk not in ids
    assert set(ids) == set(
        Ticket.objects.filter(requester=desk.requester).values_list("id", flat=True)
    )


def test_a_role_taken_away_shows_on_the_next_request(desk, varied):
    # The permissions come with the person on every request: nothing is kept between them.
    viewer = UserFactory(username="temp", roles=[Role.ADMINISTRATOR])
    client = APIClient()
    client.force_login(viewer)
    assert len(client.get("/api/tickets/").json()["results"]) == len(
        Ticket.objects.values_list("id")
    )
    viewer.groups.set([])
    viewer.groups.add(*UserFactory(roles=[Role.REQUESTER]).groups.all())
    assert client.get("/api/tickets/").json()["results"] == []
