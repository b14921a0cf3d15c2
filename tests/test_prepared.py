"""Server-side prepared statements (servicedesk/prepared.py): prepared once per database
session, not counted among the request's queries, prepared again on a new connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.prepared import execute_prepared

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT %(a)s::int + %(b)s::int, %(a)s::int * 2, '100%%'"


def _sessions_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name = 'test_sum'")
        return [row[0] for row in cursor.fetchall()]


def _run(a: int, b: int) -> tuple:
    with connection.cursor() as cursor:
        execute_prepared(cursor, "test_sum", SQL, {"b": b, "a": a})
        return cursor.fetchone()


def test_prepared_once_per_session_and_answers_as_the_statement_would():
    connection.close()
    with CaptureQueriesContext(connection) as queries:
        assert _run(2, 3) == (5, 4, "100%")
        assert _run(10, -4) == (6, 20, "100%")
    # Two EXECUTEs, both the request's; the PREPARE went through the driver's own cursor.
    assert [q["sql"].split(" (")[0] for q in queries.captured_queries] == [
        "EXECUTE test_sum",
        "EXECUTE test_sum",
    ]
    assert _sessions_statements() == ["test_sum"]


def test_a_new_connection_prepares_again():
    _run(1, 1)
    connection.close()  # as after a database restart or CONN_MAX_AGE
    assert _sessions_statements() == []
    assert _run(4, 5) == (9, 8, "100%")
    assert _sessions_statements() == ["test_sum"]


def test_positional_parameters_and_arrays():
    with connection.cursor() as cursor:
        sql = "SELECT count(*) FROM unnest(%s::bigint[]) AS x WHERE x > %s"
        execute_prepared(cursor, "test_positional", sql, [[1, 5, 9], 4])
        assert cursor.fetchone() == (2,)
        execute_prepared(cursor, "test_positional", sql, [[], 0])
        assert cursor.fetchone() == (0,)
