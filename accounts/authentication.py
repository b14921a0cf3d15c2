"""API authentication: DRF's token scheme, loading the person's unit with the token.

Intake reads the requester's unit for every new ticket (the ticket is filed under it), so it
comes in the same query as the token and the person; so do the person's permissions and roles
(`accounts.backends.PERMISSIONS_SQL`), which every API view checks: a second round trip that
PostgreSQL planned afresh for every request (0.36-0.43 ms of its CPU, bench/request_cost.py);
and their ticket scope (accounts/scope.py), which every agent's ticket read needs.

The query is written once per process rather than built by the ORM for every request:
compiling the three-table `select_related` was half of the authentication's Python time and
a tenth of a whole `POST /api/tickets/` (docs/benchmarks.md, "Ticket core"). The rows become
the same model instances the ORM would make (`Model.from_db`).
"""

from __future__ import annotations

from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .backends import access_columns, with_loaded_access
from .scope import FRONT

_statements: dict = {}  # per token model: (SQL, [(model, field names, column count)])


def _token_statement(token_model):
    statement = _statements.get(token_model)
    if statement is None:
        user_model = token_model._meta.get_field("user").related_model
        unit_model = user_model._meta.get_field("unit").related_model
        parts, columns = [], []
        for model, alias in ((token_model, "t"), (user_model, "u"), (unit_model, "o")):
            fields = model._meta.concrete_fields
            parts.append((model, [f.attname for f in fields], len(fields)))
            columns += [f'{alias}."{f.column}"' for f in fields]
        token_table, user_table, unit_table = (
            f'"{m._meta.db_table}"' for m in (token_model, user_model, unit_model)
        )
        # The person's permissions and ticket scope, as a session's person has them.
        columns.append(access_columns('t."user_id"'))
        # Table and column names from the models' metadata; the key is a parameter.
        sql = (
            f"SELECT {', '.join(columns)} FROM {token_table} t "  # noqa: S608  # nosec B608
            f'JOIN {user_table} u ON u."id" = t."user_id" '
            f'LEFT JOIN {unit_table} o ON o."id" = u."unit_id" '
            'WHERE t."key" = %(key)s'
        )
        statement = _statements[token_model] = (sql, parts)
    return statement


def token_with_person(token_model, key: str):
    """The token of `key` with its person and their unit loaded, or None."""
    sql, parts = _token_statement(token_model)
    alias = router.db_for_read(token_model)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, {"key": key, "front": FRONT})
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for model, names, count in parts:
        values = row[start : start + count]
        start += count
        is_null = values[0] is None  # the unit's id: the person has no unit
        instances.append(None if is_null else model.from_db(alias, names, values))
    token, user, unit = instances
    user.unit = unit  # the LEFT JOIN's unit, or None: no further query either way
    token.user = with_loaded_access(user, permissions=row[-2], scope=row[-1])
    return token


class DeskTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        token = token_with_person(self.get_model(), key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
