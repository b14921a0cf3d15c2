"""`GET /api/tickets/` built from plain rows: the page's ids cut by the cursor, then two
precompiled statements for their rows, turned into the list's dicts by one function.

The list view used to cut the page as model instances (django-fsm's `__init__` per ticket), load
their people and three reference tables in four more ORM queries, and build each row from the
instances: 13 ms of CPU for 50 rows at 1,000,000 tickets, most of it compiling five ORM
queries and building instances (docs/benchmarks.md, "HTTP throughput (item 5)"). The page is
still chosen by the viewer's scope, the filters and DRF's cursor exactly as before
(`selectors.ticket_list_ids`); only the reading and the shaping of the chosen rows changed.
`TicketListSerializer` stays the documented shape (the OpenAPI schema is generated from it);
tests/tickets/test_api_list_rows.py holds `list_rows` to its output byte for byte.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import OrgUnit, Team, User
from catalog.models import InformationSystem, RequestType
from servicedesk.api import validated
from servicedesk.prepared import execute_prepared

from ..models import Ticket
from ..selectors import TicketFilters
from .serializers import STATUS_LABELS, TicketListQuerySerializer

# The ticket's own columns, in the order of TicketListSerializer.Meta.fields, then the keys of
# the four named relations (team, request type, system, unit).
_TICKET_COLUMNS = (
    "id",
    "number",
    "title",
    "status",
    "pending_reason",
    "priority",
    "channel",
    "tier",
    "needs_triage",
    "created_at",
    "updated_at",
    "team_id",
    "request_type_id",
    "system_id",
    "unit_id",
)
_PERSON_COLUMNS = ("id", "username", "display_name", "first_name", "last_name")
_PEOPLE = (("r", "requester_id"), ("a", "assignee_id"))
_NAMED = (Team, RequestType, InformationSystem, OrgUnit)  # in the order of the keys above
_FIRST_KEY = _TICKET_COLUMNS.index("team_id")


def _rows_sql() -> str:
    columns = [f't."{c}"' for c in _TICKET_COLUMNS]
    joins = []
    users = User._meta.db_table
    for alias, fk in _PEOPLE:
        columns += [f'{alias}."{c}"' for c in _PERSON_COLUMNS]
        joins.append(f'LEFT JOIN "{users}" {alias} ON {alias}."id" = t."{fk}"')
    # Table and column names from the models' metadata; the ids are a parameter.
    return (
        f'SELECT {", ".join(columns)} FROM "{Ticket._meta.db_table}" t '  # noqa: S608  # nosec B608
        + " ".join(joins)
        + ' WHERE t."id" = ANY(%s)'
    )


# The rows join only the two people: joining the four reference tables too made PostgreSQL
# plan the seven-table statement for 1.7 ms (in a warm connection) to run it in 0.3 ms; the
# three-table one plans in 0.2 ms, the names' statement below in 0.07 ms.
ROWS_SQL = _rows_sql()
# One part per reference table, for the keys the page names (table names from the models).
_NAMES_SQL = [
    f'SELECT {i}, "id", "code", "name", "name_zh" FROM "{m._meta.db_table}" '  # noqa: S608  # nosec B608
    'WHERE "id" = ANY(%s)'
    for i, m in enumerate(_NAMED)
]


def _names(rows: list[tuple], chinese: bool) -> dict[tuple[int, int], dict]:
    """(relation index, id) → the `{"id", "code", "name"}` of each reference row the page
    names, the name in the active language (as LocalizedNameMixin.label), in one statement
    (none when no row names any). Rows naming the same team share its dict."""
    keys = [sorted({row[_FIRST_KEY + i] for row in rows} - {None}) for i in range(len(_NAMED))]
    named = enumerate(zip(_NAMES_SQL, keys, strict=True))
    parts = [(i, sql, ids) for i, (sql, ids) in named if ids]
    if not parts:
        return {}
    # One prepared statement per set of tables named (at most 15), once per database session.
    name = "tickets_api_list_names_" + "".join(str(i) for i, _sql, _ids in parts)
    with connection.cursor() as cursor:
        sql = " UNION ALL ".join(sql for _i, sql, _ids in parts)
        execute_prepared(cursor, name, sql, [ids for _i, _sql, ids in parts])
        return {
            (i, pk): {"id": pk, "code": code, "name": name_zh if chinese and name_zh else name}
            for i, pk, code, name, name_zh in cursor.fetchall()
        }


def iso_datetime(value: datetime, zone: tzinfo) -> str:
    """DRF's DateTimeField output: ISO 8601 in the current time zone, UTC written as `Z`."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _person(row: tuple, start: int) -> dict | None:
    pk, username, display_name, first_name, last_name = row[start : start + 5]
    if pk is None:
        return None
    # As User.__str__: the display name, else the full name, else the user name.
    name = display_name or f"{first_name} {last_name}".strip() or username
    return {"id": pk, "username": username, "name": name}


_labels_by_language: dict[str, dict[str, str]] = {}


def _status_labels(language: str) -> dict[str, str]:
    """The status labels translated into `language`, once per language and process."""
    labels = _labels_by_language.get(language)
    if labels is None:
        labels = _labels_by_language[language] = {
            value: str(label) for value, label in STATUS_LABELS.items()
        }
    return labels


def list_rows(ids: list[int]) -> list[dict]:
    """TicketListSerializer's output for the tickets of `ids` (already chosen through the
    viewer's scope), in that order: their rows with their people, then the names of their
    teams, request types, systems and units (two queries); labels in the active language, times
    in the active time zone."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        # Every API list: prepared once per database session (servicedesk/prepared.py).
        execute_prepared(cursor, "tickets_api_list_rows", ROWS_SQL, [list(ids)])
        fetched = cursor.fetchall()
    language = get_language() or ""
    names = _names(fetched, language.startswith("zh"))
    rows = {row[0]: row for row in fetched}
    zone = timezone.get_current_timezone()
    labels = _status_labels(language)
    result = []
    for pk in ids:
        row = rows.get(pk)
        if row is None:
            continue  # deleted between the page's two reads
        status = row[3]
        result.append(
            {
                "id": row[0],
                "number": row[1],
                "title": row[2],
                "status": status,
                "status_label": labels.get(status, status),
                "pending_reason": row[4],
                "priority": row[5],
                "channel": row[6],
                "tier": row[7],
                "needs_triage": row[8],
                "requester": _person(row, 15),
                "assignee": _person(row, 20),
                "team": names.get((0, row[11])),
                "request_type": names.get((1, row[12])),
                "system": names.get((2, row[13])),
                "unit": names.get((3, row[14])),
                "created_at": iso_datetime(row[9], zone),
                "updated_at": iso_datetime(row[10], zone),
            }
        )
    return result


# What TicketListQuerySerializer validates an empty query to: the list's filters when the
# query names only the page (the serializer ignores `cursor` and `page_size`, the paginator's
# own parameters). Validating nothing through DRF's fields was a tenth of a page's CPU
# (tests/tickets/test_api_list_rows.py checks the two agree).
NO_FILTERS = {"unassigned": False, "needs_triage": None, "open": False, "q": ""}
PAGE_PARAMETERS = frozenset({"cursor", "page_size"})


def list_filters(request) -> TicketFilters:
    """The filters of `GET /api/tickets/`'s query, or a 400 with the field messages."""
    if PAGE_PARAMETERS.issuperset(request.query_params):
        query = NO_FILTERS
    else:
        query = validated(TicketListQuerySerializer, request, request.query_params)
    return TicketFilters(
        status=query.get("status", []),
        open_only=query["open"],
        priority=query.get("priority", []),
        request_type=query.get("request_type", []),
        system=query.get("system", []),
        team=query.get("team", []),
        tier=query.get("tier", []),
        unit=query.get("unit"),
        assignee=query.get("assignee"),
        unassigned=query["unassigned"],
        requester=query.get("requester"),
        needs_triage=query["needs_triage"],
        q=query["q"],
    )
