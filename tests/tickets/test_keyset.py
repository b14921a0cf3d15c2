"""The API list's pages compiled once per list (tickets/keyset.py): the same tickets, in the
same order, as the ORM's queryset gives through DRF's cursors, both ways, for every viewer;
one prepared statement a page size, whose plan PostgreSQL keeps; a viewer's new team shows
on the next page although the list's SQL was compiled before."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.choices import Role, Tier
from accounts.models import TeamMembership, User
from tests.factories import TeamFactory, TicketFactory, agent, client_for
from tickets import selectors
from tickets.api import listing
from tickets.keyset import IdPages
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(desk):
    factory = TicketFactory(desk)
    made = [factory.new(title=f"new {i}") for i in range(4)]
    made += [factory.queued(desk.front, title=f"front {i}") for i in range(4)]
    made += [factory.queued(desk.back, title=f"back {i}") for i in range(3)]
    made += [factory.in_progress(title=f"working {i}") for i in range(2)]
    return made


def expected_ids(viewer, **filters) -> list[int]:
    filters = selectors.TicketFilters(**filters)
    return list(
        selectors.ticket_list_ids(viewer=viewer, filters=filters).values_list("id", flat=True)
    )


def walk(client, url: str, link: str) -> list[list[int]]:
    pages = []
    while url:
        body = client.get(url).json()
        pages.append([row["id"] for row in body["results"]])
        url = body[link]
    return pages


@pytest.mark.parametrize("who", ["admin", "tier1", "engineer", "requester", "outsider_agent"])
def test_pages_forward_and_back_are_the_querysets_tickets(desk, tickets, who):
    viewer = getattr(desk, who)
    client = client_for(viewer)
    forward = walk(client, "/api/tickets/?page_size=3", "next")
    ids = expected_ids(viewer)
    assert [pk for page in forward for pk in page] == ids
    assert all(len(page) == 3 for page in forward[:-1])
    if len(forward) > 1:
        # From the last page back to the first through the `previous` cursors (id__gt,
        # ascending, reversed by DRF): the same pages in the other order.
        last = client.get("/api/tickets/?page_size=3")
        url = last.json()["next"]
        while True:
            body = client.get(url).json()
            if body["next"] is None:
                break
            url = body["next"]
        backward = walk(client, url, "previous")
        assert backward == list(reversed(forward))


def test_filtered_lists_page_like_the_queryset(desk, tickets):
    client = client_for(desk.admin)
    pages = walk(client, "/api/tickets/?status=queued&page_size=2", "next")
    assert [pk for page in pages for pk in page] == expected_ids(desk.admin, status=["queued"])
    assert len(pages) == 4  # seven queued tickets, two a page


def test_a_cursor_with_an_offset_skips_as_drf_does(desk, tickets):
    ids = expected_ids(desk.admin)
    position = ids[2]
    cursor = quote(base64.b64encode(f"o=2&p={position}".encode()).decode())
    response = client_for(desk.admin).get(f"/api/tickets/?cursor={cursor}&page_size=3")
    assert response.status_code == 200
    # After the position (ids below it, newest first), two skipped, then three.
    assert [row["id"] for row in response.json()["results"]] == ids[5:8]


def signed_in(user) -> APIClient:
    """A browser's session: the person (and their scope) read anew on every request."""
    client = APIClient()
    client.force_login(user)
    return client


def test_a_new_team_shows_on_the_next_page(desk, tickets):
    agent = desk.engineer
    client = signed_in(agent)
    front = {t.pk for t in tickets if t.team_id == desk.front.pk}
    before = [row["id"] for row in client.get("/api/tickets/").json()["results"]]
    assert before == expected_ids(User.objects.get(pk=agent.pk))
    assert front and not front & set(before)
    TeamMembership.objects.create(team=desk.front, user=agent)
    after = [row["id"] for row in client.get("/api/tickets/").json()["results"]]
    assert after == expected_ids(User.objects.get(pk=agent.pk))
    assert front <= set(after)


def page_statement(client, url: str) -> tuple[list[int], str]:
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(url).json()
    (page,) = [q["sql"] for q in ctx.captured_queries if "tickets_ids_" in q["sql"]]
    return [row["id"] for row in body["results"]], page.split()[1]


def test_two_agents_of_one_shape_share_a_statement_not_their_tickets(desk, tickets):
    other_back = TeamFactory(code="back-2", tier=Tier.BACK)
    colleague = agent(other_back, Role.BACK_ENGINEER, username="engineer2")
    theirs_only = TicketFactory(desk).queued(other_back, title="for the other back team")
    mine, my_statement = page_statement(signed_in(desk.engineer), "/api/tickets/")
    theirs, their_statement = page_statement(signed_in(colleague), "/api/tickets/")
    assert mine == expected_ids(User.objects.get(pk=desk.engineer.pk))
    assert theirs == expected_ids(User.objects.get(pk=colleague.pk))
    assert theirs_only.pk in theirs and theirs_only.pk not in mine
    # One team each, the same SQL with other values: one statement (and plan) for both.
    assert my_statement == their_statement


def test_a_page_size_is_one_prepared_statement_with_a_kept_plan(desk, tickets):
    client = signed_in(desk.engineer)  # a scope with values: PostgreSQL may plan per value
    names = {page_statement(client, "/api/tickets/?page_size=4")[1] for _ in range(9)}
    assert len(names) == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s",
            [names.pop()],
        )
        generic, custom = cursor.fetchone()
    # PostgreSQL plans the first five runs for their values, then keeps one plan.
    assert (custom, generic) == (5, 4)


def test_a_list_that_can_hold_nothing_asks_no_page(desk, tickets):
    pages = IdPages(
        ("nothing",), lambda: Ticket.objects.none().values("id"), select=listing.page_sql
    )
    with CaptureQueriesContext(connection) as ctx:
        assert pages.order_by("-id")[0:51] == []
        assert pages.order_by("id").filter(id__gt=5)[0:51] == []
    assert ctx.captured_queries == []


@pytest.mark.parametrize(
    "misuse",
    [
        lambda pages: pages.order_by("created_at"),
        lambda pages: pages.filter(number__lt="SD"),
        lambda pages: pages[3],
        lambda pages: pages[0:10:2],
    ],
)
def test_id_pages_refuse_what_they_do_not_do(desk, misuse):
    pages = selectors.ticket_id_pages(viewer=desk.admin, select=listing.page_sql)
    with pytest.raises((ValueError, TypeError)):
        misuse(pages)


def test_the_compiled_lists_are_bounded_least_recently_used_first(desk, monkeypatch):
    from tickets import keyset

    monkeypatch.setattr(keyset, "_COMPILED", keyset.OrderedDict())
    monkeypatch.setattr(keyset, "_COMPILED_MAX", 2)
    lists = [
        IdPages((f"list {i}",), lambda: Ticket.objects.values("id"), select=listing.page_sql)
        for i in range(3)
    ]
    lists[0].order_by("-id")[0:1]
    lists[1].order_by("-id")[0:1]
    lists[0].order_by("-id")[0:1]  # used again: now the most recent
    lists[2].order_by("-id")[0:1]
    assert [key[0] for key in keyset._COMPILED] == [("list 0",), ("list 2",)]
