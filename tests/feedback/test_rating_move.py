"""The ratings moved from `portal` to `feedback` by a data migration: rows, ids and the id
sequence survive; backwards copies them back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from feedback.models import Rating
from tests.factories import TicketFactory

BEFORE = [("portal", "0001_initial"), ("feedback", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_portal_ratings_are_copied_with_their_ids(desk):
    ticket = TicketFactory(desk).closed()
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO portal_rating (id, ticket_id, rated_by_id, score, comment, created_at)"
                " VALUES (41, %s, %s, 4, 'Quick', now())",
                [ticket.pk, desk.requester.pk],
            )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        rating = Rating.objects.get()
        assert (rating.pk, rating.ticket_id, rating.score, rating.comment) == (
            41,
            ticket.pk,
            4,
            "Quick",
        )
        assert rating.rated_by == desk.requester and rating.reasons == []
        # The id sequence continues after the copied ids.
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('feedback_rating', 'id'))")
            assert cursor.fetchone()[0] == 42
        assert "portal_rating" not in connection.introspection.table_names()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
