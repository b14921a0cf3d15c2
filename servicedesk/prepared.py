"""Server-side prepared statements for the few fixed statements the hot requests run.

psycopg2 does not prepare: PostgreSQL parses and plans each statement it is sent, every time.
For the person with their permissions (every signed-in request) and an agent's teams and units
(every agent page) the planning was most of the database's work for them (~0.2–0.4 ms a
request, docs/benchmarks.md). `execute_prepared` sends `PREPARE` once per database session and
then `EXECUTE` with the parameters. A prepared statement lasts as long as the session, whatever
happens to transactions (a rollback does not undo it), so a connection replaced after an error
simply prepares again.

The `PREPARE` goes through the driver's own cursor, not Django's (unless `logged`): it is not
one of the request's queries (query-count budgets in the tests stay the request's own
statements), and it is sent at most once per connection. Named statements need a session per
client connection: behind a transaction-pooling PgBouncer these must go back to a plain
`cursor.execute(sql, params)`. Used by ticket creation's one statement, the person with their
permissions, an agent's scope, the API list's pages (tickets/keyset.py), the SLA badges, the
queue pages' rows, team members and reference fingerprint, and the ticket page's ticket
(`prepare_on`, for a statement Django compiled: tickets/compiled.py).
"""

from __future__ import annotations

import hashlib
import re
import weakref

_NAMED = re.compile(r"%\((\w+)\)s")
_POSITIONAL = re.compile(r"%s")
_statements: dict[str, tuple[str, list[str] | int]] = {}
_prepared_on: dict[str, weakref.WeakSet] = {}


def _prepare(name: str, sql: str) -> tuple[str, list[str] | int]:
    """`PREPARE name AS …` with the placeholders numbered ($1, $2, …): each `%(param)s` by its
    name's first appearance, or each `%s` in order; and the parameter names in that order (or
    how many positional parameters there are)."""
    if name not in _statements:
        names: list[str] = []

        def number(match: re.Match) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        if _NAMED.search(sql):
            text = _NAMED.sub(number, sql)
            parameters: list[str] | int = names
        else:
            counter = iter(range(1, sql.count("%s") + 1))
            text = _POSITIONAL.sub(lambda _match: f"${next(counter)}", sql)
            parameters = sql.count("%s")
        _statements[name] = (f"PREPARE {name} AS {text.replace('%%', '%')}", parameters)
    return _statements[name]


def prepare_on(cursor, name: str, sql: str, *, logged: bool = False) -> str:
    """Make sure `cursor`'s database session has the statement `name` prepared from `sql`, and
    return the `EXECUTE` that runs it, with a `%s` per parameter (positional order). `cursor`
    is a Django cursor; `name` must be unique in the process and `sql` the same on every call.
    `logged`: send the PREPARE through `cursor`, as one of the caller's queries."""
    prepare, parameters = _prepare(name, sql)
    driver = cursor.db.connection
    sessions = _prepared_on.setdefault(name, weakref.WeakSet())
    if driver not in sessions:
        if logged:
            cursor.execute(prepare)
        else:
            with driver.cursor() as own:
                own.execute(prepare)
        sessions.add(driver)
    count = parameters if isinstance(parameters, int) else len(parameters)
    # `EXECUTE name ()` is a syntax error: a statement without parameters has no list.
    return f"EXECUTE {name} ({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"


def execute_prepared(cursor, name: str, sql: str, params, *, logged: bool = False) -> None:
    """`cursor.execute(sql, params)` (a dict for `%(name)s`, a sequence for `%s`) through the
    statement `name`, prepared once per database session (`prepare_on`). `logged`: send the
    PREPARE through `cursor` too, as one of the caller's queries (ticket creation's, whose
    tests watch a session prepare it once)."""
    execute = prepare_on(cursor, name, sql, logged=logged)
    parameters = _statements[name][1]
    named = not isinstance(parameters, int)
    values = [params[key] for key in parameters] if named else list(params)
    cursor.execute(execute, values)


def statement_name(prefix: str, sql: str) -> str:
    """A name for the statement `sql` made from its text: callers whose SQL comes out the same
    (viewers of one scope shape, say) share one statement, in every process."""
    return f"{prefix}_{hashlib.sha256(sql.encode()).hexdigest()[:24]}"
