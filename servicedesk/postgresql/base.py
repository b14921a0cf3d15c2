"""Django's PostgreSQL backend, with a connection's health checked without a round trip.

With `CONN_HEALTH_CHECKS` Django asks a reused connection `SELECT 1` at the first query of
every request, so that the first request after a database restart does not fail. That is a
round trip and a statement on every page and API call (docs/benchmarks.md, "HTTP
throughput"). A connection the server ended (a restart, `pg_terminate_backend`, an idle
timeout) has its socket readable while nothing was asked: the server's last message, or the
end of the stream. So the socket is looked at first. A connection the driver marked closed, or
whose transaction failed, is not usable (Django's `SELECT 1` would fail too); one with
something unasked to read, or in a state the driver cannot tell, is asked as Django would.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg2 import extensions

# Where the answer is known without asking: a statement would run, or would fail.
_READY = (extensions.TRANSACTION_STATUS_IDLE, extensions.TRANSACTION_STATUS_INTRANS)
_FAILING = (extensions.TRANSACTION_STATUS_INERROR, extensions.TRANSACTION_STATUS_UNKNOWN)


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        driver = self.connection
        if driver is None or driver.closed:
            return False
        status = driver.info.transaction_status
        if status in _FAILING:
            return False  # an aborted transaction or a lost connection: Django's test fails too
        if status not in _READY:
            return super().is_usable()
        try:
            poller = select.poll()  # poll, not select: any descriptor number
            poller.register(driver.fileno(), select.POLLIN | select.POLLPRI)
            pending = poller.poll(0)
        except (OSError, ValueError):
            return False
        if not pending:
            return True  # idle and silent: the server has said nothing since the last answer
        # Something arrived unasked: the end of the connection, or a harmless notice. Django's
        # own test tells them apart (and the driver reads the notice).
        return super().is_usable()
