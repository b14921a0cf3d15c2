"""Authentication backends: Django's model backend, with a person's permissions in one query.

Every request that checks a capability (`user.has_perm`) loads the person's permissions once.
Django's `ModelBackend` does that in two queries (direct and through groups), each joining
permissions, content types, groups and users; PostgreSQL spent over a millisecond planning
them. Roles here are groups, so both sets come from one small statement over the link tables,
which also names the person's roles (groups).

A signed-in browser's request loads its person by id (`get_user`, from the session) and then,
on its first capability check, those permissions: two round trips, the first compiled by the ORM
for every request. Both come from one statement written once per process instead
(`USER_SQL`); the row becomes the model instance the ORM would make (`Model.from_db`).
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection, connections, router

from servicedesk.prepared import execute_prepared

from .scope import FRONT, scope_sql

# The tables are Django's and this app's defaults (auth, contenttypes, accounts.User's two
# many-to-many links); tests/accounts/test_backends.py checks the result against ModelBackend.
PERMISSIONS_SQL = """
    SELECT ct.app_label, p.codename
    FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE p.id IN (
        SELECT permission_id FROM accounts_user_user_permissions WHERE user_id = %(user)s
        UNION ALL
        SELECT gp.permission_id FROM auth_group_permissions gp
        JOIN accounts_user_groups ug ON ug.group_id = gp.group_id
        WHERE ug.user_id = %(user)s
    )
    UNION ALL
    SELECT NULL, g.name FROM auth_group g JOIN accounts_user_groups ug ON ug.group_id = g.id
    WHERE ug.user_id = %(user)s
"""


# The person's row; as one two-column array, what PERMISSIONS_SQL gives for them; and as one
# three-column array their ticket scope (accounts/scope.py), which every agent page and API
# call reads: a round trip fewer on each.
ACCESS_COLUMNS = """
    ARRAY(SELECT ARRAY[perms.app_label, perms.codename]::text[] FROM ({permissions}) perms),
    ARRAY(SELECT ARRAY[scope.kind, scope.team::text, scope.path]::text[] FROM ({scope}) scope)
"""
USER_SQL = """
    SELECT {columns}, {access}
    FROM {users} u WHERE u.id = %(user)s
"""


def access_columns(person: str) -> str:
    """The two array columns `with_loaded_access` takes, for the person whose id `person`
    names (a column, or `%(user)s`); the statement's parameters also need `front`."""
    return ACCESS_COLUMNS.format(
        permissions=PERMISSIONS_SQL.replace("%(user)s", person),
        scope=scope_sql().replace("%(user)s", person),
    )


_user_statement: tuple[str, list[str]] | None = None


def _user_sql() -> tuple[str, list[str]]:
    global _user_statement
    if _user_statement is None:
        fields = get_user_model()._meta.concrete_fields
        # Column and table names from the model's metadata; the id is a parameter.
        sql = USER_SQL.format(
            columns=", ".join(f'u."{f.column}"' for f in fields),
            access=access_columns("%(user)s"),
            users=f'"{get_user_model()._meta.db_table}"',
        )
        _user_statement = (sql, [f.attname for f in fields])
    return _user_statement


def user_with_permissions(user_id: int):
    """The person of `user_id` with their permissions and roles already loaded (as
    `get_all_permissions` would load them) and the rows of their ticket scope (`_scope_rows`,
    for tickets.selectors.load_viewer_scope), or None."""
    sql, names = _user_sql()
    model = get_user_model()
    alias = router.db_for_read(model)
    with connections[alias].cursor() as cursor:
        # Every signed-in request: prepared once per database session (servicedesk/prepared.py).
        execute_prepared(
            cursor, "accounts_user_with_permissions", sql, {"user": user_id, "front": FRONT}
        )
        row = cursor.fetchone()
    if row is None:
        return None
    user = model.from_db(alias, names, row[:-2])
    return with_loaded_access(user, permissions=row[-2], scope=row[-1])


def with_loaded_access(user, *, permissions: list, scope: list):
    """`user` with what one statement read with them: the `[app_label, codename]` rows of
    PERMISSIONS_SQL (app_label NULL: a role) and the `[kind, team, path]` rows of their ticket
    scope (accounts/scope.py), as the permission checks and tickets.selectors.load_viewer_scope
    read them. Used for a session's person here and a token's (accounts/authentication.py)."""
    user._scope_rows = [
        (kind, int(team) if team is not None else None, path) for kind, team, path in scope
    ]
    if user.is_active and not user.is_superuser:
        # A superuser's set is every permission, read when first asked, as before.
        user._role_names = {name for app_label, name in permissions if app_label is None}
        user._perm_cache = {
            f"{app_label}.{codename}" for app_label, codename in permissions if app_label
        }
    return user


class DeskModelBackend(AxesStandaloneBackend, ModelBackend):
    """Django's model backend, guarded by django-axes' lockout check (accounts/lockout.py).

    One backend rather than axes' own in front of this one: with two backends Django cannot
    tell which one `User.objects.with_perm()` should ask. A sign-in without a request (the
    test client's `login()`, a management command) has no client address to count failures
    against; axes would refuse it outright, so it is only checked by password. Every sign-in
    over HTTP passes its request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None:
            # Raises PermissionDenied (a failed sign-in) while the username or address is locked.
            AxesStandaloneBackend.authenticate(
                self, request, username=username, password=password, **kwargs
            )
        return ModelBackend.authenticate(
            self, request, username=username, password=password, **kwargs
        )

    def get_user(self, user_id):
        """ModelBackend's `get_user` (an inactive person is nobody), in one statement."""
        user = user_with_permissions(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = self._load_all_permissions(user_obj)
        return user_obj._perm_cache

    @staticmethod
    def _load_all_permissions(user_obj) -> set[str]:
        if user_obj.is_superuser:
            rows = Permission.objects.values_list("content_type__app_label", "codename")
        else:
            with connection.cursor() as cursor:
                cursor.execute(PERMISSIONS_SQL, {"user": user_obj.pk})
                rows = cursor.fetchall()
            # The same statement names the person's roles (`User.role_names`, which every
            # page's menu asks): rows without an app label are group names.
            user_obj._role_names = {name for app_label, name in rows if app_label is None}
        return {f"{app_label}.{codename}" for app_label, codename in rows if app_label}


# Whether a person (`{person}`, a column reference) was granted one capability, directly or
# through a role (a superuser holds every one without a grant), as Django's `with_perm` reads
# the grants; the parameters are `grant_params(perm)`. Written out, not compiled by the ORM per
# call (~3 ms per team here).
GRANTED_SQL = """(
    EXISTS (
        SELECT 1 FROM accounts_user_user_permissions up
        JOIN auth_permission p ON p.id = up.permission_id
        JOIN django_content_type ct ON ct.id = p.content_type_id
        WHERE up.user_id = {person} AND p.codename = %s AND ct.app_label = %s
    )
    OR EXISTS (
        SELECT 1 FROM accounts_user_groups ug
        JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
        JOIN auth_permission p ON p.id = gp.permission_id
        JOIN django_content_type ct ON ct.id = p.content_type_id
        WHERE ug.user_id = {person} AND p.codename = %s AND ct.app_label = %s
    )
)"""


def grant_params(perm: str) -> list[str]:
    app_label, codename = perm.split(".", 1)
    return [codename, app_label, codename, app_label]


# The people given (an array) who hold the capability; fixed text, the values are parameters.
HOLDERS_SQL = """
    SELECT u.id FROM accounts_user u
    WHERE u.id = ANY(%s) AND u.is_active AND (u.is_superuser OR {granted})
""".format(granted=GRANTED_SQL.format(person="u.id"))  # noqa: S608  # nosec B608


def holders_among(perm: str, user_ids) -> set[int]:
    """The ids among `user_ids` of active people holding the capability `perm`
    ("app_label.codename"), as `User.objects.with_perm(perm)` selects them.

    `with_perm` filters by `id IN (a subquery over every person of the desk)`: PostgreSQL
    evaluated it for all 20,000 people of the bench desk (7–23 ms), once per team and batch
    in automatic assignment. This asks only about the people given."""
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(HOLDERS_SQL, [ids, *grant_params(perm)])
        return {row[0] for row in cursor.fetchall()}
