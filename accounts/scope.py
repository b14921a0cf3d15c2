"""The statement of a person's ticket scope: their teams, the units they manage, and the units
their front-office teams serve (tickets.selectors.load_viewer_scope turns the rows into the
scope). Every signed-in request reads it with the person (accounts/backends.py: one round trip
for both); a person loaded otherwise reads it on its own."""

from __future__ import annotations

from functools import cache

from .choices import Tier
from .models import OrgUnit, Team, TeamMembership, User

# Its aliases are its own (s_*): the statement is also placed inside others that name their
# person by a column of theirs (accounts/backends.py `access_columns`).
_SCOPE_SQL = """
    SELECT 't' AS kind, s_own.team_id AS team, NULL AS path FROM {membership} s_own
    WHERE s_own.user_id = %(user)s
    UNION ALL
    SELECT 'm', NULL, s_unit.path FROM {managed} s_managed
    JOIN {units} s_unit ON s_unit.id = s_managed.orgunit_id
    WHERE s_managed.user_id = %(user)s
    UNION ALL
    SELECT 's', s_team.id, s_unit.path FROM {teams} s_team
    JOIN {membership} s_member ON s_member.team_id = s_team.id AND s_member.user_id = %(user)s
    LEFT JOIN {served} s_served ON s_served.team_id = s_team.id
    LEFT JOIN {units} s_unit ON s_unit.id = s_served.orgunit_id
    WHERE s_team.tier = %(front)s
"""
FRONT = Tier.FRONT.value


@cache
def scope_sql() -> str:
    """(kind, team id, unit path) rows for `%(user)s` (`%(front)s`: the front-office tier):
    't' a team of theirs, 'm' a unit they manage, 's' a unit a front-office team of theirs
    serves (path NULL: that team serves every unit)."""
    tables = {
        "membership": TeamMembership._meta.db_table,
        "managed": User.managed_units.through._meta.db_table,
        "served": Team.served_units.through._meta.db_table,
        "units": OrgUnit._meta.db_table,
        "teams": Team._meta.db_table,
    }
    # Table names from the models, values as parameters.
    return _SCOPE_SQL.format(**tables)  # nosec B608
