"""Ticket reads whose SQL is compiled once per process (the selectors use them).

Django compiles a queryset's SQL anew on every evaluation. For the ticket page's reads, whose
SQL differs only by the ticket and the viewer's scope, compiling cost as much as running them,
or three times as much for the ticket itself (docs/benchmarks.md, "Agent ticket page"). These
helpers let Django compile a query once, for placeholder values, and run it again with the
request's values: the SQL is Django's own, so the scope it encodes is the selectors'.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet

from servicedesk.api import MAX_ID
from servicedesk.prepared import prepare_on, statement_name

ANY_TICKET = -(2**62)  # no ticket has it: marks where the ticket's id goes in the parameters


class PageRow:
    """One row of a ticket's log, conversation or files with the model's attribute names (and
    `pk`), without a model instance: building 40 instances through a raw query cost as much
    as the ticket page's other reads together (bench/bench_pages.py)."""

    def __init__(self, names: tuple, values: tuple) -> None:
        self.__dict__.update(zip(names, values, strict=True))
        self.pk = self.id


# key → (database alias, column names, converters by position, SQL, parameters).
_COMPILED_ROWS: dict[tuple, tuple] = {}


def page_rows_of_ticket(
    key: tuple, queryset_of: Callable[[int], QuerySet], ticket_id: int
) -> list[PageRow]:
    """The rows `queryset_of(ticket_id)` selects, as `PageRow`s: the model's concrete columns,
    converted from the database as the model's fields do (JSON decoded). Their SQL differs
    only by the ticket's id, so it is compiled once, by Django, for a placeholder id, and run
    with the ticket's (compiling cost as much as running them)."""
    if key not in _COMPILED_ROWS:
        queryset = queryset_of(ANY_TICKET)
        fields = queryset.model._meta.concrete_fields
        names = tuple(field.attname for field in fields)
        sql, params = queryset.values_list(*names).query.sql_with_params()
        convert = tuple(
            (i, field.from_db_value)
            for i, field in enumerate(fields)
            if hasattr(field, "from_db_value")
        )
        _COMPILED_ROWS[key] = (queryset.db, names, convert, sql, params)
    database, names, convert, sql, params = _COMPILED_ROWS[key]
    values = [ticket_id if value == ANY_TICKET else value for value in params]
    connection = connections[database]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    if convert:
        rows = [list(row) for row in rows]
        for row in rows:
            for i, from_db in convert:
                row[i] = from_db(row[i], None, connection)
    return [PageRow(names, tuple(row)) for row in rows]


# Ticket queries compiled once per process for each viewer scope (`scope_key`):
# key → (queryset, its compiler after `as_sql`, SQL, parameters with placeholders, the name
# of its prepared statement).
_COMPILED_TICKETS: dict[tuple, tuple] = {}
# An entry (a queryset and its compiler) is ~90 KiB: a few hundred agents' pages per process
# at most, cleared when full (compiling again costs ~1.5 ms once).
_COMPILED_TICKETS_MAX = 256
ANY_PERSON = -(2**62) + 1
ANY_NUMBER = "\x00any ticket number\x00"


def compiled_tickets(key: tuple, build: Callable[[], QuerySet], values: dict) -> list:
    """The tickets of `build()` with its placeholders (`ANY_TICKET`, `ANY_PERSON`,
    `ANY_NUMBER`) replaced by `values`, as model instances with their `select_related`
    relations and annotations. Django compiles a queryset anew for every request, and for the
    ticket page's ticket (the viewer's visibility clause, four joins, the follower test) that
    cost three times what running it did (bench/bench_pages.py). `build` must read nothing
    but what `key` holds (the viewer's `scope_key` and the query's shape): its SQL is
    compiled once, by Django, and run through Django's own row handling with the values.

    The statement is also prepared once per database session (servicedesk/prepared.py):
    PostgreSQL planned the ticket page's ticket (five relations, the follower test, the
    requester's other tickets) for 1.3 ms on every page to run it in 0.2 ms (at 1,000,000
    tickets, pg_stat_statements; docs/benchmarks.md, "HTTP throughput")."""
    if any(isinstance(v, int) and not -MAX_ID - 1 <= v <= MAX_ID for v in values.values()):
        # The placeholders stand for keys matched by equality: a value beyond a bigint matches
        # no row (and the prepared statement's typed parameter would refuse it, an error).
        return []
    entry = _COMPILED_TICKETS.get(key)
    if entry is None:
        queryset = build()
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        name = statement_name("tickets_compiled", sql)
        entry = (queryset, compiler, sql, tuple(params), name)
        if len(_COMPILED_TICKETS) >= _COMPILED_TICKETS_MAX:
            _COMPILED_TICKETS.clear()
        _COMPILED_TICKETS[key] = entry
    queryset, compiler, sql, params, name = entry
    run_params = [
        values[value] if isinstance(value, int | str) and value in values else value
        for value in params
    ]
    connection = connections[queryset.db]  # this thread's connection
    with connection.cursor() as cursor:
        execute = prepare_on(cursor, name, sql)
    run = copy.copy(compiler)  # shared parts (the select list, the query) are only read
    run.connection = connection
    run.as_sql = lambda *args, **kwargs: (execute, run_params)
    chained = queryset._chain()
    chained.query.get_compiler = lambda *args, **kwargs: run
    return list(chained)
