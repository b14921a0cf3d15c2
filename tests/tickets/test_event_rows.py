"""Log rows written in bulk: `EventRow` carries exactly the columns a `TicketEvent` stores, and
the tables a move writes into keep no index that another index already serves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import TicketFactory
from tickets.choices import ActorKind, EventKind
from tickets.events import (
    EventRow,
    event_record_changes,
    event_record_many,
    event_row,
    event_rows_for_changes,
    snapshot,
)
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db

COLUMNS = (
    "ticket_id",
    "kind",
    "actor_id",
    "actor_kind",
    "field",
    "old_value",
    "new_value",
    "message",
    "is_public",
    "data",
    "created_at",
)


def stored(pk: int) -> tuple:
    return tuple(TicketEvent.objects.values_list(*COLUMNS).get(pk=pk))


def test_rows_are_written_with_every_column_as_given(desk):
    ticket = TicketFactory(desk).queued(requester=desk.requester)
    at = timezone.now() - timedelta(minutes=3)
    by_requester = event_row(
        ticket=ticket,
        kind=EventKind.COMMENTED,
        actor=desk.requester,
        message="名字 <b>bold</b>",
        data={"comment": 7, "nested": {"a": [1, "二"]}},
        created_at=at,
    )
    by_system = event_row(ticket=ticket, kind=EventKind.SLA_BREACHED, is_public=False)
    by_system.new_value = ticket.number

    before = snapshot(ticket)
    ticket.tier, ticket.team_id, ticket.assignee_id = "middle", desk.middle.pk, desk.expert.pk
    changes = event_rows_for_changes(
        ticket=ticket, before=before, actor=desk.tier1, message="why", data={"step": 1}
    )

    with CaptureQueriesContext(connection) as ctx:
        rows = event_record_many([by_requester, by_system, *changes])
    assert len(ctx.captured_queries) == 1
    assert all(isinstance(row, EventRow) and row.pk for row in rows)

    assert stored(by_requester.pk) == (
        ticket.pk,
        EventKind.COMMENTED,
        desk.requester.pk,
        ActorKind.REQUESTER,
        "",
        None,
        None,
        "名字 <b>bold</b>",
        True,
        {"comment": 7, "nested": {"a": [1, "二"]}},
        at,
    )
    assert stored(by_system.pk)[:9] == (
        ticket.pk,
        EventKind.SLA_BREACHED,
        None,
        ActorKind.SYSTEM,
        "",
        None,
        ticket.number,
        "",
        False,
    )
    assert [stored(row.pk)[:10] for row in changes] == [
        (
            ticket.pk,
            EventKind.TIER_CHANGED,
            desk.tier1.pk,
            ActorKind.AGENT,
            "tier",
            before["tier"],
            "middle",
            "why",
            True,
            {"step": 1},
        ),
        (
            ticket.pk,
            EventKind.TEAM_CHANGED,
            desk.tier1.pk,
            ActorKind.AGENT,
            "team",
            before["team_id"],
            desk.middle.pk,
            "why",
            True,
            {"step": 1},
        ),
        (
            ticket.pk,
            EventKind.ASSIGNED,
            desk.tier1.pk,
            ActorKind.AGENT,
            "assignee",
            before["assignee_id"],
            desk.expert.pk,
            "why",
            True,
            {"step": 1},
        ),
    ]


def test_recorded_changes_are_one_statement(desk):
    ticket = TicketFactory(desk).queued()
    before = snapshot(ticket)
    ticket.priority = "P1"
    with CaptureQueriesContext(connection) as ctx:
        (row,) = event_record_changes(ticket=ticket, before=before, message="urgent")
    assert len(ctx.captured_queries) == 1
    assert stored(row.pk)[1:8] == (
        EventKind.PRIORITY_CHANGED,
        None,
        ActorKind.SYSTEM,
        "priority",
        before["priority"],
        "P1",
        "urgent",
    )


# A move of a ticket writes an entry into every index of its table (and the log, timer and
# notification rows it adds, into theirs): an index whose columns lead another index of the
# same table is only extra work on every write.
WRITTEN_ON_A_MOVE = (
    "tickets_ticket",
    "tickets_ticketevent",
    "sla_slatimer",
    "notifications_notification",
)


def _indexes(table: str) -> list[tuple[str, list[str], bool, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, ARRAY(
                       SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
                       JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                       ORDER BY k.n),
                   x.indisunique, x.indpred IS NOT NULL
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_am am ON am.oid = i.relam
            WHERE t.relname = %s AND am.amname = 'btree'
            """,
            [table],
        )
        return cursor.fetchall()


@pytest.mark.parametrize("table", WRITTEN_ON_A_MOVE)
def test_no_index_is_served_by_another(table):
    indexes = _indexes(table)
    redundant = [
        (name, other)
        for name, columns, unique, partial in indexes
        if not unique and not partial
        for other, wider, _unique, other_partial in indexes
        if other != name and not other_partial and wider[: len(columns)] == columns
    ]
    assert redundant == []
