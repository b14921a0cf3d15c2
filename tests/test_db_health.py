"""The database connection's health check (servicedesk/postgresql/base.py): a healthy
connection is kept without a statement; one the server ended is replaced before the request's
first query; one with something unasked to read is asked `SELECT 1` as Django would."""

from __future__ import annotations

import select
import time

import psycopg2
import pytest
from django.db import DataError, connection, connections, transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def observer():
    """A second session, to look at (and end) the desk's own connection from outside."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    other = psycopg2.connect(**params)
    other.autocommit = True
    yield other
    other.close()


def _last_statement(observer, pid: int) -> str:
    with observer.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row[0] if row else ""


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() /* health marker */")
        return cursor.fetchone()[0]


def _readable(timeout: float = 5.0) -> bool:
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    return bool(poller.poll(int(timeout * 1000)))


def _health_checked_at_request_start() -> None:
    # What Django does before a request's first query when CONN_HEALTH_CHECKS is on.
    connection.health_check_enabled = True
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def test_the_desk_uses_its_backend():
    assert type(connections["default"]).__module__ == "servicedesk.postgresql.base"
    assert connection.vendor == "postgresql"


def test_a_healthy_connection_is_kept_without_a_statement(observer):
    pid = _backend_pid()
    driver = connection.connection
    assert connection.is_usable() is True
    _health_checked_at_request_start()
    assert connection.connection is driver
    # The server saw nothing after the marker: no `SELECT 1` round trip.
    assert _last_statement(observer, pid) == "SELECT pg_backend_pid() /* health marker */"
    assert _backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_the_first_query(observer):
    pid = _backend_pid()
    with observer.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    assert _readable()  # the server's goodbye
    assert connection.is_usable() is False
    _health_checked_at_request_start()
    assert connection.connection is None
    new_pid = _backend_pid()  # the request's first query succeeds, on a new session
    assert new_pid != pid


def test_a_connection_closed_by_the_driver_is_not_usable():
    _backend_pid()
    connection.connection.close()
    assert connection.is_usable() is False
    connection.close()  # as Django does with an unusable connection


def test_a_connection_in_a_failed_transaction_is_not_usable(observer):
    # As Django's `SELECT 1` would find (its test teardown relies on it).
    pid = _backend_pid()
    with transaction.atomic():
        with pytest.raises(DataError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0 /* fails */")
        assert connection.is_usable() is False
        assert _last_statement(observer, pid) == "SELECT 1 / 0 /* fails */"  # nothing sent
        connection.set_rollback(True)
    assert connection.is_usable() is True


def test_an_unasked_message_is_checked_as_django_does(observer):
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN desk_health_test")
    with observer.cursor() as cursor:
        cursor.execute("NOTIFY desk_health_test, 'hello'")
    assert _readable()
    assert connection.is_usable() is True
    deadline = time.monotonic() + 5
    while _last_statement(observer, pid) != "SELECT 1" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _last_statement(observer, pid) == "SELECT 1"
    assert [n.payload for n in connection.connection.notifies] == ["hello"]
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")
