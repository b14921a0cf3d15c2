"""`GET /api/tickets/` built from plain rows: the page and its rows in one prepared statement,
turned into the list's dicts by one function.

The list view used to cut the page as model instances (django-fsm's `__init__` per ticket), load
their people and three reference tables in four more ORM queries, and build each row from the
instances: 13 ms of CPU for 50 rows at 1,000,000 tickets, most of it compiling five ORM
queries and building instances (docs/benchmarks.md, "HTTP throughput (item 5)"). The page is
still chosen by the viewer's scope, the filters and DRF's cursor exactly as before
(`selectors.ticket_id_pages`, the SQL of `selectors.ticket_list_ids` compiled once per list);
`page_sql` wraps that page's ids into the statement that also reads their rows, their people
and the names of their team, request type, system and unit, so a page is one statement after
the person's. `TicketListSerializer` stays the documented shape (the OpenAPI schema is generated
from it); tests/tickets/test_api_list_rows.py holds `page_rows` to its output byte for byte.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import OrgUnit, Team, User
from catalog.models import InformationSystem, RequestType
from servicedesk.api import validated

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
# The named relations, in the order of their keys above, with their aliases.
_NAMED = (("tm", Team), ("rt", RequestType), ("sy", InformationSystem), ("un", OrgUnit))
_NAMED_COLUMNS = ("code", "name", "name_zh")
_FIRST_KEY = _TICKET_COLUMNS.index("team_id")
_FIRST_PERSON = len(_TICKET_COLUMNS)
_FIRST_NAME = _FIRST_PERSON + len(_PEOPLE) * len(_PERSON_COLUMNS)


def _page_sql_parts() -> tuple[str, str, str, str]:
    """The select lists and joins of a page's rows: the tickets with their people (columns
    named c0, c1, … in the order above), then the names of their relations (table and column
    names from the models' metadata; nothing from a request)."""
    columns = [f't."{c}"' for c in _TICKET_COLUMNS]
    joins = []
    users = User._meta.db_table
    for alias, fk in _PEOPLE:
        columns += [f'{alias}."{c}"' for c in _PERSON_COLUMNS]
        joins.append(f'LEFT JOIN "{users}" {alias} ON {alias}."id" = t."{fk}"')
    named, named_joins = [], []
    for i, (alias, model) in enumerate(_NAMED):
        named += [f'{alias}."{c}"' for c in _NAMED_COLUMNS]
        key = f'x."c{_FIRST_KEY + i}"'
        named_joins.append(f'LEFT JOIN "{model._meta.db_table}" {alias} ON {alias}."id" = {key}')
    inner = ", ".join(f'{column} AS "c{i}"' for i, column in enumerate(columns))
    outer = ", ".join([f'x."c{i}"' for i in range(len(columns))] + named)
    return inner, " ".join(joins), outer, " ".join(named_joins)


_INNER, _PEOPLE_JOINS, _OUTER, _NAMED_JOINS = _page_sql_parts()


def page_sql(page: str, descending: bool) -> str:
    """The statement reading the rows of the tickets `page` selects (SQL whose one column is
    their id, ordered and limited), in the page's order, first column the id
    (`keyset.IdPages`' `select`). The tickets with their people are read first and only then
    named (`OFFSET 0` keeps the planner from joining the eight relations in one search):
    PostgreSQL planned the eight-way join for 2.9 ms and the two halves for 0.5 ms, which a
    prepared statement pays for its first five runs on each connection before keeping a plan
    (docs/benchmarks.md, "HTTP throughput")."""
    order = "DESC" if descending else "ASC"
    return (
        f"SELECT {_OUTER} FROM ("  # noqa: S608  # nosec B608
        f"SELECT {_INNER} FROM ({page}) AS page "
        f'JOIN "{Ticket._meta.db_table}" t ON t."id" = page."id" {_PEOPLE_JOINS} OFFSET 0'
        f') AS x {_NAMED_JOINS} ORDER BY x."c0" {order}'
    )


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


def page_rows(page: list[dict]) -> list[dict]:
    """TicketListSerializer's output for the page `IdPages` read with `page_sql` (each item's
    `row`), in its order: labels and names in the active language, times in the active time
    zone. Rows naming the same team (request type, system, unit) share its dict."""
    language = get_language() or ""
    chinese = language.startswith("zh")
    zone = timezone.get_current_timezone()
    labels = _status_labels(language)
    names: dict[tuple[int, int], dict] = {}

    def named(row: tuple, relation: int) -> dict | None:
        pk = row[_FIRST_KEY + relation]
        if pk is None:
            return None
        found = names.get((relation, pk))
        if found is None:
            code, name, name_zh = row[_FIRST_NAME + 3 * relation : _FIRST_NAME + 3 * relation + 3]
            # As LocalizedNameMixin.label.
            name = name_zh if chinese and name_zh else name
            found = names[relation, pk] = {"id": pk, "code": code, "name": name}
        return found

    result = []
    for item in page:
        row = item["row"]
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
                "requester": _person(row, _FIRST_PERSON),
                "assignee": _person(row, _FIRST_PERSON + 5),
                "team": named(row, 0),
                "request_type": named(row, 1),
                "system": named(row, 2),
                "unit": named(row, 3),
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
