"""The desk's one clock for service-level decisions: the database server's.

Web and worker processes run on several machines whose clocks drift and get stepped (NTP, a
VM resumed, an operator's mistake). Deciding a breach by each process's own clock let a +1 h
step breach and escalate P1 tickets opened five minutes earlier, and a -1 h step record first
responses before their clocks started (issue 17, item 12). Every SLA decision therefore takes
"now" from PostgreSQL — `clock_timestamp()`, read once per sweep chunk, per SLA reaction (in
the query that takes the ticket's SLA lock, so it costs nothing) and per first response — so
every process agrees, whatever its own clock says.

`DESK_CLOCK = "process"` uses the process clock instead: only the test settings do, because the
test suite moves time with time-machine, which cannot move PostgreSQL's clock
(tests/sla/test_clock_steps.py runs with the database's clock).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models.functions import Now
from django.utils import timezone


def from_database() -> bool:
    return getattr(settings, "DESK_CLOCK", "database") != "process"


def now() -> datetime:
    """Now by the desk's clock (one query when it is the database's)."""
    if not from_database():
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def now_in_query() -> datetime | Now:
    """Now for a filter: the database's own `now()` inside the query (no extra round trip)."""
    return Now() if from_database() else timezone.now()


def chosen(database_now: datetime) -> datetime:
    """The desk's now, given the database's as a query already returned it."""
    return database_now if from_database() else timezone.now()
