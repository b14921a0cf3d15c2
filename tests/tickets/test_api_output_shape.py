"""The ticket API's output shapes, pinned exactly: keys in order, value types and formats, and
the OpenAPI schema that documents them. The output serializers build their dicts by hand for
speed (`tickets.api.serializers`); these tests hold them to what DRF's declared fields give."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone, translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework.renderers import JSONRenderer

from catalog.models import Category, SystemModule
from tests.factories import TicketFactory, UserFactory, client_for, request_type
from tickets import selectors
from tickets.api.serializers import TicketDetailSerializer, TicketListSerializer
from tickets.choices import Channel, Impact, Status, Urgency
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

# Instants with and without microseconds; the desk's time zone is Asia/Shanghai (UTC+8).
CREATED = datetime(2026, 3, 1, 2, 3, 4, 567890, tzinfo=UTC)
UPDATED = datetime(2026, 3, 2, 16, 0, 0, tzinfo=UTC)
FIRST_RESPONSE = datetime(2026, 3, 1, 2, 13, 4, 1, tzinfo=UTC)
RESOLVED = datetime(2026, 3, 2, 3, 0, 0, 500000, tzinfo=UTC)
CLOSED = datetime(2026, 3, 2, 15, 59, 59, 999999, tzinfo=UTC)
# What an administrator may do to the pending ticket (`tickets.selectors.ticket_actions`).
FULL_ACTIONS = ["assign", "escalate", "resume", "cancel", "merge", "priority"]


def render(data) -> bytes:
    """The bytes the API sends for `data` (key order, number and string formats included)."""
    return JSONRenderer().render(data)


def assert_sends(sent: bytes, expected) -> None:
    """`sent` is exactly the JSON of `expected`; the values first, for a readable diff."""
    assert json.loads(sent) == expected
    assert sent == render(expected)


@pytest.fixture
def tickets(desk):
    """One ticket with every optional relation and column set, one with all of them empty."""
    incident = TicketFactory(desk).new(requester=desk.other_requester, title="Trading is down")
    kept = TicketFactory(desk).new(requester=desk.other_requester, title="Printer jammed (kept)")
    desk.back.name_zh = "核心系统"
    desk.back.save(update_fields=["name_zh"])
    module = SystemModule.objects.create(
        system=desk.system, code="orders", name="Orders", name_zh="订单"
    )
    nameless = UserFactory(username="carol", display_name="")  # str(user) is the username
    full = TicketFactory(desk).new(title="Printer jammed", description="Tray 2.\nAgain.")
    Ticket.objects.filter(pk=full.pk).update(
        status=Status.PENDING,
        pending_reason="vendor",
        priority="P2",
        channel="email",
        tier="back",
        needs_triage=True,
        assignee=desk.engineer,
        team=desk.back,
        request_type=request_type("fault"),
        system=desk.system,
        module=module,
        category=Category.objects.get(code="network-vpn"),
        unit=desk.unit_a,
        created_by=nameless,
        impact=2,
        urgency=1,
        resolution="Replaced the roller.",
        classification_confidence=0.8125,
        created_at=CREATED,
        updated_at=UPDATED,
        first_response_at=FIRST_RESPONSE,
        resolved_at=RESOLVED,
        closed_at=CLOSED,
        reopen_count=2,
        incident=incident,
        merged_into=kept,
    )
    empty = TicketFactory(desk).new(title="Nothing else known")
    Ticket.objects.filter(pk=empty.pk).update(
        unit=None, created_by=None, created_at=CREATED, updated_at=UPDATED
    )
    return SimpleNamespace(
        full=Ticket.objects.get(pk=full.pk),
        empty=Ticket.objects.get(pk=empty.pk),
        incident=incident,
        kept=kept,
        module=module,
        nameless=nameless,
    )


def full_row(desk, t, *, zh: bool = False) -> dict:
    return {
        "id": t.full.pk,
        "number": t.full.number,
        "title": "Printer jammed",
        "status": "pending",
        "status_label": "Pending",
        "pending_reason": "vendor",
        "priority": "P2",
        "channel": "email",
        "tier": "back",
        "needs_triage": True,
        "requester": {
            "id": desk.requester.pk,
            "username": "alice",
            "name": desk.requester.display_name,
        },
        "assignee": {
            "id": desk.engineer.pk,
            "username": "engineer",
            "name": desk.engineer.display_name,
        },
        "team": {
            "id": desk.back.pk,
            "code": "back-core",
            "name": "核心系统" if zh else "Core systems",
        },
        "request_type": {
            "id": request_type("fault").pk,
            "code": "fault",
            "name": "故障" if zh else "Fault",
        },
        "system": {"id": desk.system.pk, "code": "trading", "name": "Trading"},
        "unit": {"id": desk.unit_a.pk, "code": "unit-a", "name": "Unit A"},
        "created_at": "2026-03-01T10:03:04.567890+08:00",
        "updated_at": "2026-03-03T00:00:00+08:00",
    }


def full_detail(desk, t, *, actions: list[str], zh: bool = False) -> dict:
    vpn = Category.objects.get(code="network-vpn")
    return {
        **full_row(desk, t, zh=zh),
        "description": "Tray 2.\nAgain.",
        "category": {"id": vpn.pk, "code": "network-vpn", "name": "VPN"},
        "module": {"id": t.module.pk, "code": "orders", "name": "订单" if zh else "Orders"},
        "impact": 2,
        "urgency": 1,
        "resolution": "Replaced the roller.",
        "classification_confidence": 0.8125,
        "created_by": {"id": t.nameless.pk, "username": "carol", "name": "carol"},
        "first_response_at": "2026-03-01T10:13:04.000001+08:00",
        "resolved_at": "2026-03-02T11:00:00.500000+08:00",
        "closed_at": "2026-03-02T23:59:59.999999+08:00",
        "reopen_count": 2,
        "incident": t.incident.number,
        "merged_into": t.kept.number,
        "actions": actions,
    }


def empty_row(desk, t) -> dict:
    return {
        "id": t.empty.pk,
        "number": t.empty.number,
        "title": "Nothing else known",
        "status": "new",
        "status_label": "New",
        "pending_reason": "",
        "priority": "P3",
        "channel": "portal",
        "tier": "",
        "needs_triage": False,
        "requester": {
            "id": desk.requester.pk,
            "username": "alice",
            "name": desk.requester.display_name,
        },
        "assignee": None,
        "team": None,
        "request_type": None,
        "system": None,
        "unit": None,
        "created_at": "2026-03-01T10:03:04.567890+08:00",
        "updated_at": "2026-03-03T00:00:00+08:00",
    }


def empty_detail(desk, t, *, actions: list[str]) -> dict:
    return {
        **empty_row(desk, t),
        "description": "",
        "category": None,
        "module": None,
        "impact": 4,
        "urgency": 3,
        "resolution": "",
        "classification_confidence": None,
        "created_by": None,
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
        "reopen_count": 0,
        "incident": None,
        "merged_into": None,
        "actions": actions,
    }


# --- the list ------------------------------------------------------------------------------


def test_list_page_rows_are_exactly_the_documented_shape(desk, tickets):
    response = client_for(desk.admin).get(f"/api/tickets/?requester={desk.requester.pk}")
    assert response.status_code == 200
    expected = [empty_row(desk, tickets), full_row(desk, tickets)]
    assert_sends(render(response.data["results"]), expected)


def test_list_rows_name_things_in_the_callers_language(desk, tickets):
    response = client_for(desk.admin).get(
        f"/api/tickets/?requester={desk.requester.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    with translation.override("zh-hans"):
        status_labels = (str(Status.NEW.label), str(Status.PENDING.label))
    expected = [empty_row(desk, tickets), full_row(desk, tickets, zh=True)]
    expected[0]["status_label"], expected[1]["status_label"] = status_labels
    assert_sends(render(response.data["results"]), expected)


def test_list_serializer_writes_utc_times_with_a_z(desk, tickets):
    page = list(selectors.ticket_list(viewer=desk.admin).filter(requester=desk.requester))
    # Name the language and zone expected rather than rely on the defaults of the thread.
    with translation.override("en"), timezone.override(UTC):
        data = TicketListSerializer(page, many=True).data
    assert [(row["created_at"], row["updated_at"]) for row in data] == [
        ("2026-03-01T02:03:04.567890Z", "2026-03-02T16:00:00Z")
    ] * 2
    assert_sends(
        render(data[1]),
        {
            **full_row(desk, tickets),
            "created_at": "2026-03-01T02:03:04.567890Z",
            "updated_at": "2026-03-02T16:00:00Z",
        },
    )


# --- one ticket ----------------------------------------------------------------------------


def test_detail_of_a_ticket_with_every_relation_set(desk, tickets):
    response = client_for(desk.admin).get(f"/api/tickets/{tickets.full.pk}/")
    assert response.status_code == 200
    expected = full_detail(desk, tickets, actions=FULL_ACTIONS)
    assert_sends(response.content, expected)


def test_detail_of_a_ticket_with_no_optional_relation(desk, tickets):
    response = client_for(desk.admin).get(f"/api/tickets/{tickets.empty.pk}/")
    assert response.status_code == 200
    expected = empty_detail(desk, tickets, actions=["route", "cancel", "merge", "priority"])
    assert_sends(response.content, expected)


def test_detail_serializer_in_another_language_and_time_zone(desk, tickets):
    ticket = selectors.ticket_get(viewer=desk.admin, ticket_id=tickets.full.pk)
    context = {"request": SimpleNamespace(user=desk.admin)}
    with translation.override("zh-hans"), timezone.override(UTC):
        data = TicketDetailSerializer(ticket, context=context).data
        status_label = str(Status.PENDING.label)
    expected = full_detail(desk, tickets, actions=FULL_ACTIONS, zh=True)
    expected.update(
        status_label=status_label,
        created_at="2026-03-01T02:03:04.567890Z",
        updated_at="2026-03-02T16:00:00Z",
        first_response_at="2026-03-01T02:13:04.000001Z",
        resolved_at="2026-03-02T03:00:00.500000Z",
        closed_at="2026-03-02T15:59:59.999999Z",
    )
    assert_sends(render(data), expected)


def test_a_ticket_just_created_by_api_is_answered_in_the_same_shape(desk):
    response = client_for(desk.requester).post(
        "/api/tickets/", {"title": "VPN drops", "urgency": 2}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert list(body) == list(TicketDetailSerializer.Meta.fields)
    assert (body["impact"], body["urgency"], body["status"], body["channel"]) == (
        4,
        2,
        "new",
        "api",
    )
    assert body["requester"] == {
        "id": desk.requester.pk,
        "username": "alice",
        "name": desk.requester.display_name,
    }
    assert body["number"] == ticket.number


def test_a_ticket_fresh_from_the_service_serializes_as_when_read_back(desk):
    # The instance `ticket_create` returns holds enum members (channel, impact, urgency), which
    # the API answers with when classification runs in the worker.
    ticket = TicketFactory(desk).new(
        channel=Channel.PHONE, urgency=Urgency.HIGH, impact=Impact.MINOR
    )
    context = {"request": SimpleNamespace(user=desk.admin)}
    with translation.override("en"):
        fresh = TicketDetailSerializer(ticket, context=context).data
        read_back = TicketDetailSerializer(
            selectors.ticket_get(viewer=desk.admin, ticket_id=ticket.pk), context=context
        ).data
    assert (fresh["channel"], fresh["urgency"], fresh["impact"]) == ("phone", 2, 4)
    assert [type(fresh[k]) for k in ("channel", "urgency", "impact")] == [str, int, int]
    assert_sends(render(fresh), json.loads(render(read_back)))


# --- the schema ----------------------------------------------------------------------------


def shape(component: dict) -> dict[str, str]:
    """Each property as its type (`string:date-time`, `array[string]`) or the component it
    refers to (`$Named`), with `?` when nullable; every property must be read-only."""
    result = {}
    for name, prop in component["properties"].items():
        assert prop.get("readOnly") is True, name
        if "allOf" in prop:
            kind = "$" + prop["allOf"][0]["$ref"].rsplit("/", 1)[1]
        elif "oneOf" in prop:  # an enum that may also be blank: `$TierEnum|$BlankEnum`
            kind = "|".join("$" + one["$ref"].rsplit("/", 1)[1] for one in prop["oneOf"])
        elif prop["type"] == "array":
            kind = f"array[{prop['items']['type']}]"
        else:
            kind = prop["type"] + (f":{prop['format']}" if "format" in prop else "")
        result[name] = kind + ("?" if prop.get("nullable") else "")
    return result


LIST_SHAPE = {
    "id": "integer",
    "number": "string",
    "title": "string",
    "status": "$StatusEnum",
    "status_label": "string",
    "pending_reason": "$PendingReasonEnum|$BlankEnum",
    "priority": "$PriorityEnum",
    "channel": "$ChannelEnum",
    "tier": "$TierEnum|$BlankEnum",
    "needs_triage": "boolean",
    "requester": "$Person",
    "assignee": "$Person?",
    "team": "$Named?",
    "request_type": "$Named?",
    "system": "$Named?",
    "unit": "$Named?",
    "created_at": "string:date-time",
    "updated_at": "string:date-time",
}
DETAIL_SHAPE = {
    **LIST_SHAPE,
    "description": "string",
    "category": "$Named?",
    "module": "$Named?",
    "impact": "$ImpactEnum",
    "urgency": "$UrgencyEnum",
    "resolution": "string",
    "classification_confidence": "number:double?",
    "created_by": "$Person?",
    "first_response_at": "string:date-time?",
    "resolved_at": "string:date-time?",
    "closed_at": "string:date-time?",
    "reopen_count": "integer",
    "incident": "string?",
    "merged_into": "string?",
    "actions": "array[string]",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_documents_the_same_ticket_shapes(schema):
    components = schema["components"]["schemas"]
    assert list(shape(components["TicketList"]).items()) == list(LIST_SHAPE.items())
    assert list(shape(components["TicketDetail"]).items()) == list(DETAIL_SHAPE.items())
    assert sorted(components["TicketList"]["required"]) == sorted(LIST_SHAPE)
    assert sorted(components["TicketDetail"]["required"]) == sorted(DETAIL_SHAPE)
    assert components["TicketList"]["description"] == (
        "One row of a ticket list. Only the relations in `selectors.LIST_RELATED` are read."
    )
    assert components["TicketDetail"]["description"] == (
        "The whole ticket as this viewer may see it, with what they may do next (`actions`)."
    )
    assert "description" not in components["Person"]
    assert components["Named"]["description"] == (
        "A team, system, unit or type: its id, code and name in the current language."
    )
    assert shape(components["Person"]) == {"id": "integer", "username": "string", "name": "string"}
    assert shape(components["Named"]) == {"id": "integer", "code": "string", "name": "string"}
    assert components["TicketDetail"]["properties"]["needs_triage"] == {
        "type": "boolean",
        "readOnly": True,
        "title": "Needs manual triage",
        "description": "Automatic classification was not confident enough (人工兜底).",
    }


def test_schema_ties_the_ticket_endpoints_to_those_shapes(schema):
    def ok(path: str, method: str) -> dict:
        return schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]

    assert ok("/api/tickets/", "get")["schema"] == {
        "$ref": "#/components/schemas/PaginatedTicketListList"
    }
    assert schema["components"]["schemas"]["PaginatedTicketListList"]["properties"]["results"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/TicketList"},
    }
    assert ok("/api/tickets/{id}/", "get")["schema"] == {
        "$ref": "#/components/schemas/TicketDetail"
    }
