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

# The SQL of a read that differs only by the ticket, compiled once per process:
# key → (model, SQL, parameters with the ticket's id as ANY_TICKET).
_COMPILED: dict[tuple, tuple] = {}
ANY_TICKET = -(2**62)  # no ticket has it: marks where the ticket's id goes in the parameters


def rows_of_ticket(key: tuple, queryset_of: Callable[[int], QuerySet], ticket_id: int) -> list:
    """The rows `queryset_of(ticket_id)` selects. Django compiles a queryset's SQL anew for
    every request; for the ticket page's log, conversation and files that cost as much as
    running them (bench/bench_pages.py). Their SQL differs only by the ticket's id, so it is
    compiled once, by Django, for a placeholder id, and run with the ticket's."""
    if key not in _COMPILED:
        queryset = queryset_of(ANY_TICKET)
        sql, params = queryset.query.sql_with_params()
        _COMPILED[key] = (queryset.model, sql, params)
    model, sql, params = _COMPILED[key]
    values = [ticket_id if value == ANY_TICKET else value for value in params]
    return list(model.objects.raw(sql, values))


# Ticket queries compiled once per process for each viewer scope (`scope_key`):
# key → (queryset, its compiler after `as_sql`, SQL, parameters with placeholders).
_COMPILED_TICKETS: dict[tuple, tuple] = {}
_COMPILED_TICKETS_MAX = 2_000  # keys are few: scopes (agents) × a handful of queries
ANY_PERSON = -(2**62) + 1
ANY_NUMBER = "\x00any ticket number\x00"


def compiled_tickets(key: tuple, build: Callable[[], QuerySet], values: dict) -> list:
    """The tickets of `build()` with its placeholders (`ANY_TICKET`, `ANY_PERSON`,
    `ANY_NUMBER`) replaced by `values`, as model instances with their `select_related`
    relations and annotations. Django compiles a queryset anew for every request, and for the
    ticket page's ticket (the viewer's visibility clause, four joins, the follower test) that
    cost three times what running it did (bench/bench_pages.py). `build` must read nothing
    but what `key` holds (the viewer's `scope_key` and the query's shape): its SQL is
    compiled once, by Django, and run through Django's own row handling with the values."""
    entry = _COMPILED_TICKETS.get(key)
    if entry is None:
        queryset = build()
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        entry = (queryset, compiler, sql, tuple(params))
        if len(_COMPILED_TICKETS) >= _COMPILED_TICKETS_MAX:
            _COMPILED_TICKETS.clear()
        _COMPILED_TICKETS[key] = entry
    queryset, compiler, sql, params = entry
    run_params = [
        values[value] if isinstance(value, int | str) and value in values else value
        for value in params
    ]
    run = copy.copy(compiler)  # shared parts (the select list, the query) are only read
    run.connection = connections[queryset.db]  # this thread's connection
    run.as_sql = lambda *args, **kwargs: (sql, run_params)
    chained = queryset._chain()
    chained.query.get_compiler = lambda *args, **kwargs: run
    return list(chained)
