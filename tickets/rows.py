"""The rows of a queue table and the bulk bar's members, read without model instances.

The queue pages show 50 tickets with their people's names: building 50 model instances (each
through django-fsm's `__init__`) and compiling the ORM's query on every page cost more than
the rest of the rows' work (docs/benchmarks.md, "Queue pages"). The ids come from the
viewer-scoped selectors; these reads only fetch what those ids show. `tickets.selectors`
re-exports them.
"""

from __future__ import annotations

from django.db import connection

from accounts.models import TeamMembership, User
from servicedesk.prepared import execute_prepared

from .models import Ticket

_PERSON_NAME = ("username", "display_name", "first_name", "last_name")


class TicketRow:
    """One row of a queue table: the ticket's own columns and its people's names, without a
    model instance (building 50 tickets, each through django-fsm's `__init__`, cost more than
    the rest of the rows' work). `team_id`, `request_type_id`, `system_id` and `unit_id` are
    named by the caller's reference lists."""

    __slots__ = (
        "assignee",
        "badges",
        "created_at",
        "description",
        "number",
        "pk",
        "priority",
        "request_type_id",
        "requester",
        "status",
        "system_id",
        "team_id",
        "tier",
        "title",
        "unit_id",
        "values",
    )

    def __init__(self, values: tuple, description: bool = False) -> None:
        (
            self.pk,
            self.number,
            self.title,
            self.priority,
            self.status,
            self.tier,
            self.created_at,
            self.team_id,
            self.request_type_id,
            self.system_id,
            self.unit_id,
        ) = values[:11]
        people = 12 if description else 11
        self.description = values[11] if description else None
        self.requester = _person_name(*values[people : people + 4])
        assignee = values[people + 4 : people + 8]
        self.assignee = _person_name(*assignee) if assignee[0] is not None else None
        self.badges = []
        # Everything a queue row shows of the ticket (workspace.rendering keys its rendered
        # rows by it).
        self.values = values

    @property
    def id(self) -> int:
        return self.pk


def _person_name(username: str, display_name: str, first_name: str, last_name: str) -> str:
    # As User.__str__.
    return display_name or f"{first_name} {last_name}".strip() or username


_ROW_COLUMNS = (
    "id",
    "number",
    "title",
    "priority",
    "status",
    "tier",
    "created_at",
    "team_id",
    "request_type_id",
    "system_id",
    "unit_id",
)


def _rows_sql(description: bool) -> str:
    # Written out once (table and column names from the models, the ids as one array
    # parameter): the ORM compiled this query anew for every queue page, a third of the
    # rows' cost (bench/bench_ui.py), and `id IN (...)` of a varying length is a new
    # statement to PostgreSQL each time.
    ticket, user = Ticket._meta.db_table, User._meta.db_table
    people = ", ".join(f"{who}.{name}" for who in ("r", "a") for name in _PERSON_NAME)
    own = ", ".join(f"t.{name}" for name in (*_ROW_COLUMNS, *(["description"] * description)))
    return (
        f"SELECT {own}, {people} FROM {ticket} t "  # noqa: S608  # nosec B608 - no input
        f"JOIN {user} r ON r.id = t.requester_id LEFT JOIN {user} a ON a.id = t.assignee_id "
        "WHERE t.id = ANY(%s)"
    )


_ROWS_SQL = {}


def ticket_rows(ids: list[int], *, description: bool = False) -> list[TicketRow]:
    """The queue rows of `ids` (already chosen through the viewer's scope), in that order, in
    one query; with `description` (the search page's snippets) also that."""
    if not ids:
        return []
    sql = _ROWS_SQL.get(description)
    if sql is None:
        sql = _ROWS_SQL[description] = _rows_sql(description)
    with connection.cursor() as cursor:
        # Every queue and search page: prepared once per database session.
        execute_prepared(cursor, f"tickets_queue_rows_{int(description)}", sql, [list(ids)])
        rows = cursor.fetchall()
    found = {values[0]: TicketRow(values, description) for values in rows}
    return [found[pk] for pk in ids if pk in found]


_MEMBERS_SQL = {}


def team_members(team_ids) -> list[tuple[int, str]]:
    """(id, name) of the active members of the teams, by name: whom a team's tickets may be
    assigned to in bulk. Written out once, as `ticket_rows` (the ORM's compiling of it was
    most of what the queue page's bulk bar cost)."""
    sql = _MEMBERS_SQL.get("sql")
    if sql is None:
        user, membership = User._meta.db_table, TeamMembership._meta.db_table
        names = ", ".join(f"u.{name}" for name in _PERSON_NAME)
        sql = _MEMBERS_SQL["sql"] = (
            f"SELECT DISTINCT u.id, {names} FROM {user} u "  # noqa: S608  # nosec B608
            f"JOIN {membership} m ON m.user_id = u.id "
            "WHERE m.team_id = ANY(%s) AND u.is_active ORDER BY u.display_name, u.username, u.id"
        )
    with connection.cursor() as cursor:
        execute_prepared(cursor, "tickets_team_members", sql, [sorted(team_ids)])
        return [(pk, _person_name(*names)) for pk, *names in cursor.fetchall()]
