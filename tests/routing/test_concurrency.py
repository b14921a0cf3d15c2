"""Round robin under concurrency, on real PostgreSQL connections: a ticket created while another
transaction holds the team's cursor waits for it and continues after the person it chose."""

from __future__ import annotations

import threading

import psycopg2
import pytest
from django.db import connection

from accounts.choices import AssignmentStrategy, Role, Tier
from routing.models import ClassificationRule, RoundRobinCursor
from tests.factories import TeamFactory, agent, request_type
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_a_lock_wait(thread: threading.Thread) -> bool:
    watcher = psycopg2.connect(**connection.get_connection_params())
    watcher.autocommit = True
    try:
        with watcher.cursor() as cursor:
            for _ in range(1200):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return True
                thread.join(timeout=0.05)
                if not thread.is_alive():
                    return False
    finally:
        watcher.close()
    return False


def test_round_robin_waits_for_a_concurrent_choice(desk):
    team = TeamFactory(
        code="helpdesk",
        name="Helpdesk",
        tier=Tier.FRONT,
        is_on_duty=True,
        assignment_strategy=AssignmentStrategy.ROUND_ROBIN,
    )
    a = agent(team, Role.FRONT_TIER1, username="hd-a")
    b = agent(team, Role.FRONT_TIER1, username="hd-b")
    ClassificationRule.objects.create(
        name="q", keywords="?", set_request_type=request_type("consultation")
    )
    first, _created = ticket_create(requester=desk.requester, title="first?")
    first.refresh_from_db()
    assert first.assignee == a  # on-commit reactions run at once outside a test transaction

    # Another transaction is choosing for this team right now and picks b.
    other = psycopg2.connect(**connection.get_connection_params())
    result: dict = {}
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM routing_roundrobincursor WHERE team_id = %s FOR UPDATE", [team.pk]
            )
            cursor.execute(
                "UPDATE routing_roundrobincursor SET last_assignee_id = %s WHERE team_id = %s",
                [b.pk, team.pk],
            )

            def create_second() -> None:
                try:
                    ticket, _ = ticket_create(requester=desk.requester, title="second?")
                    result["id"] = ticket.pk
                except Exception as exc:
                    result["error"] = exc
                finally:
                    connection.close()

            thread = threading.Thread(target=create_second)
            thread.start()
            # Wait until the new ticket's routing is blocked on the cursor's row lock (watched
            # from a third connection: a transaction sees a frozen pg_stat_activity).
            assert wait_for_a_lock_wait(thread)
        other.commit()
        thread.join(timeout=60)
    finally:
        other.close()
    assert "error" not in result, result
    second = Ticket.objects.get(pk=result["id"])
    # It saw b as the last one given a ticket, so it went to a, never b twice in a row.
    assert second.assignee == a
    assert RoundRobinCursor.objects.get(team=team).last_assignee == a
