"""`ticket_create` writes the ticket, its number, its CREATED entry and its search document in
one statement, prepared once per database session (issues #10, #11): the rows are the ones the
ORM wrote, the ticket returned is the ticket stored, and a new ticket is found by its words as
soon as it is committed."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Category, RequestType, SystemModule
from tickets import services
from tickets.choices import ActorKind, Channel, EventKind, Impact, Urgency
from tickets.models import Ticket, TicketEvent, TicketFollower, TicketSearchDocument
from tickets.search import search_document_update

pytestmark = pytest.mark.django_db


def stored(ticket: Ticket) -> dict:
    return {f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields}


def entry_of(ticket: Ticket) -> tuple:
    return TicketEvent.objects.values_list(
        "kind", "actor_id", "actor_kind", "field", "old_value", "new_value", "message",
        "is_public", "data", "created_at",
    ).get(ticket=ticket)  # fmt: skip


def document_of(ticket: Ticket) -> tuple:
    return TicketSearchDocument.objects.values_list("public", "staff").get(ticket=ticket)


def test_the_ticket_returned_is_the_ticket_stored(desk):
    module = SystemModule.objects.create(system=desk.system, code="ledger", name="Ledger")
    ticket, created = services.ticket_create(
        requester=desk.requester,
        created_by=desk.requester,
        title="打印机 keeps jamming",
        description="Floor 3, 纸张卡住了",
        channel=Channel.API,
        module=module,
        impact=Impact.EXTENSIVE,
        urgency=Urgency.HIGH,
        request_type=RequestType.objects.first(),
        category=Category.objects.first(),
        external_source="api:1",
        external_ref="order-42",
    )
    assert created and not ticket._state.adding and ticket._state.db == "default"
    assert ticket.system_id == desk.system.pk  # the module's system
    assert stored(ticket) == stored(Ticket.objects.get(pk=ticket.pk))
    assert ticket.updated_at >= ticket.created_at
    # A second delivery of the reference returns the same ticket.
    again, created_again = services.ticket_create(
        requester=desk.requester,
        created_by=desk.requester,
        title="打印机 keeps jamming",
        external_source="api:1",
        external_ref="order-42",
    )
    assert (again.pk, created_again) == (ticket.pk, False)


def test_the_entry_is_the_creation_by_its_actor(desk):
    own, _ = services.ticket_create(
        requester=desk.requester, created_by=desk.requester, title="VPN", channel=Channel.API
    )
    assert entry_of(own) == (
        EventKind.CREATED, desk.requester.pk, ActorKind.REQUESTER, "", None, own.number, "",
        True, {"channel": "api"}, own.created_at,
    )  # fmt: skip
    call, _ = services.ticket_create(
        requester=desk.requester, created_by=desk.tier1, title="Phone", channel=Channel.PHONE
    )
    assert entry_of(call)[:3] == (EventKind.CREATED, desk.tier1.pk, ActorKind.AGENT)
    assert TicketFollower.objects.filter(ticket=call, user=desk.tier1).exists()
    by_desk, _ = services.ticket_create(requester=desk.requester, title="Alert", channel="alert")
    assert entry_of(by_desk)[:3] == (EventKind.CREATED, None, ActorKind.SYSTEM)
    assert entry_of(by_desk)[8] == {"channel": "alert"}


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("Printers on floor 3 offline", ""),
        ("打印机无法打印", "从今天早上开始 VPN 提示证书过期。Since this morning."),
        ("VPN (SD-2020-000001) & <b>x</b>", "it's 100% down; 'quoted' \\ back-slash"),
    ],
)
def test_the_document_is_the_one_a_rebuild_makes(desk, title, description):
    ticket, _ = services.ticket_create(
        requester=desk.requester, created_by=desk.requester, title=title, description=description
    )
    written = document_of(ticket)
    search_document_update(ticket_id=ticket.pk)
    assert document_of(ticket) == written


def test_numbers_have_at_least_six_digits(desk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM tickets_ticket_number_seq")
        (last,) = cursor.fetchone()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval('tickets_ticket_number_seq', 41)")
        small, _ = services.ticket_create(requester=desk.requester, title="a")
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval('tickets_ticket_number_seq', 999999)")
        large, _ = services.ticket_create(requester=desk.requester, title="b")
    finally:
        with connection.cursor() as cursor:  # a sequence is not rolled back with the test
            cursor.execute("SELECT setval('tickets_ticket_number_seq', %s)", [max(last, 1000000)])
    assert small.number.endswith("-000042") and large.number.endswith("-1000000")
    assert Ticket.objects.get(pk=large.pk).number == large.number


@pytest.mark.django_db(transaction=True)  # committed as deployed, then searched
def test_a_ticket_just_created_over_the_api_is_found_by_its_words(desk):
    token = Token.objects.create(user=desk.requester)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = {"title": "Scanner jammed on floor 7", "description": "纸张卡住了, says the display"}
    created = client.post("/api/tickets/", body, format="json")
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    for words in ("jammed", "scanners floor", "卡住", "display", number):
        found = client.get("/api/tickets/", {"q": words})
        assert [row["number"] for row in found.json()["results"]] == [number], words
    assert client.get("/api/tickets/", {"q": "printer"}).json()["results"] == []


def created_sql(**kwargs) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        services.ticket_create(**kwargs)
    statements = [q["sql"].split(" ", 2) for q in ctx.captured_queries]
    return [words[0] for words in statements if words[1:2] == ["tickets_ticket_create"]]


@pytest.mark.django_db(transaction=True)
def test_the_statement_is_prepared_once_per_database_session(desk):
    ticket = {"requester": desk.requester, "title": "VPN"}
    connection.close()
    assert created_sql(**ticket) == ["PREPARE", "EXECUTE"]
    assert created_sql(**ticket) == ["EXECUTE"]
    # A rolled-back transaction keeps it (PREPARE is not transactional) ...
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_create(**ticket)
        raise RuntimeError
    assert created_sql(**ticket) == ["EXECUTE"]
    # ... a new session has to prepare it again.
    connection.close()
    assert created_sql(**ticket) == ["PREPARE", "EXECUTE"]
    assert Ticket.objects.filter(title="VPN").count() == 4  # the rolled-back one is gone
