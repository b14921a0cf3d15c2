"""A ticket list's page as DRF's cursor pagination cuts it, compiled once per list.

`GET /api/tickets/` cuts its page on the ids of the tickets the caller may see (their scope,
the list's filters), newest first, after the cursor's position. Django compiled that queryset
anew on every request, and DRF's paginator ordered, filtered and sliced it again: 0.44 ms of
the web process's 2.7 ms for a page, and PostgreSQL parsed and planned the statement each time
(docs/benchmarks.md, "HTTP throughput"). `IdPages` stands in for the queryset in DRF's
`CursorPagination.paginate_queryset`, which asks of it exactly `order_by` by the id, `filter` by
`id__lt` / `id__gt` and one slice: the SQL for each (list, direction, kind of bound) is
compiled once, by Django, from the selectors' own queryset, and run, prepared once per
database session (servicedesk/prepared.py), with the cursor's position. A `select` wraps the
page's ids into a statement that reads their rows too, so the page and its rows are one round
trip.
"""

from __future__ import annotations

import contextlib
import functools
from collections import OrderedDict
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from servicedesk.prepared import execute_prepared, statement_name

from .compiled import ANY_TICKET

_LOOKUPS = ("id__lt", "id__gt")
# (list key, ordering, lookup) → (database alias, SQL, parameters, the index of the position
# among them), or None for a list that can hold no ticket. An entry is the SQL text and its
# parameters (a kilobyte or two); the least recently used go first.
_COMPILED: OrderedDict[tuple, tuple | None] = OrderedDict()
_COMPILED_MAX = 1024
_MISSING = object()


class IdPages:
    """The tickets of `build()` (a `.values("id")` queryset) in the shape DRF's
    `CursorPagination` reads them: `{"id": …, "row": …}` per ticket, the row read by
    `select(page_sql, descending)` (SQL reading the rows of the tickets `page_sql` selects, id
    first, in its order). `key` must name everything `build` reads (the viewer's scope key, the
    filters' values); None compiles on every use, as Django would (a list whose SQL depends on
    more than its key, such as a word search)."""

    def __init__(
        self,
        key: tuple | None,
        build: Callable[[], QuerySet],
        *,
        select: Callable[[str, bool], str],
        ordering: str = "-id",
        bound: tuple[str, int] | None = None,
    ) -> None:
        self.key = key
        self.build = build
        self.select = select
        self.ordering = ordering
        self.bound = bound

    def _with(self, **changes) -> IdPages:
        kwargs = {"select": self.select, "ordering": self.ordering, "bound": self.bound}
        return IdPages(self.key, self.build, **{**kwargs, **changes})

    def order_by(self, *fields: str) -> IdPages:
        if fields not in (("id",), ("-id",)):
            raise ValueError(f"ticket id pages are ordered by the id only, not {fields}")
        return self._with(ordering=fields[0])

    def filter(self, **lookups) -> IdPages:
        ((lookup, value),) = lookups.items()
        if lookup not in _LOOKUPS:
            raise ValueError(f"ticket id pages are bounded by the id only, not {lookup}")
        # The paginator's position comes from the cursor (decimal digits, checked by
        # TicketCursorPagination.decode_cursor against the largest id).
        return self._with(bound=(lookup, int(value)))

    def __getitem__(self, item: slice) -> list[dict]:
        if not isinstance(item, slice) or item.step is not None or item.stop is None:
            raise TypeError("ticket id pages are read one slice [offset:stop] at a time")
        offset = item.start or 0
        lookup, position = self.bound if self.bound else (None, None)
        compiled = self._compiled(lookup)
        if compiled is None or item.stop <= offset:
            return []
        database, base, params, index = compiled
        values = list(params)
        if index is not None:
            values[index] = position
        sql, name = _statement(base, item.stop - offset, offset, self.select, self.ordering)
        with connections[database].cursor() as cursor:
            if name is None:
                cursor.execute(sql, values)
            else:
                execute_prepared(cursor, name, sql, values)
            rows = cursor.fetchall()
        return [{"id": row[0], "row": row} for row in rows]

    def _compiled(self, lookup: str | None) -> tuple | None:
        if self.key is None:
            return self._compile(lookup)
        key = (self.key, self.ordering, lookup)
        compiled = _COMPILED.get(key, _MISSING)
        if compiled is not _MISSING:
            # The threads of a worker share the table: another may have dropped the entry
            # since (each operation holds the interpreter lock; the pair does not).
            with contextlib.suppress(KeyError):
                _COMPILED.move_to_end(key)
            return compiled
        compiled = _COMPILED[key] = self._compile(lookup)
        while len(_COMPILED) > _COMPILED_MAX:
            with contextlib.suppress(KeyError):
                _COMPILED.popitem(last=False)
        return compiled

    def _compile(self, lookup: str | None) -> tuple | None:
        queryset = self.build().order_by(self.ordering)
        try:
            if lookup is not None:
                # Compiled for the placeholder id (tickets.compiled): the position goes there.
                queryset = queryset.filter(**{lookup: ANY_TICKET})
            sql, params = queryset.query.sql_with_params()
        except EmptyResultSet:  # a filter no ticket can match (an unknown unit, say)
            return None
        # The bound is the last condition added, so its parameter is the last placeholder (the
        # filters' ids are positive). Django's SQL of an unsliced queryset ends with its ORDER
        # BY: the page's bounds follow (`_statement`).
        index = len(params) - 1 - params[::-1].index(ANY_TICKET) if lookup is not None else None
        return queryset.db, sql, tuple(params), index


@functools.lru_cache(maxsize=1024)
def _statement(
    base: str, limit: int, offset: int, select: Callable, ordering: str
) -> tuple[str, str | None]:
    """The statement of one page of `base` (compiled SQL ending with its ORDER BY) and the
    name it is prepared under, or None for one run as it is.

    The bounds are written into the statement: PostgreSQL plans `LIMIT $n` for an unknown
    limit (a tenth of the table), so it planned a prepared statement with a parameter anew on
    every run (pg_stat_statements) instead of keeping its plan. A page has one of a few sizes;
    an offset only comes with a cursor inside a run of equal positions, which ids never have,
    so a statement with one is not kept prepared. Lists of one shape and page size share a
    statement (`statement_name`)."""
    sql = f"{base} LIMIT {int(limit)}"
    if offset:
        sql += f" OFFSET {int(offset)}"
    sql = select(sql, ordering.startswith("-"))
    return (sql, None) if offset else (sql, statement_name("tickets_ids", sql))
