"""The statement of a person's ticket scope: their teams, the units they manage, and the units
their front-office teams serve (tickets.selectors.load_viewer_scope turns the rows into the
scope). Every signed-in request reads it with the person (accounts/backends.py: one round trip
for both); a person loaded otherwise reads it on its own."""

from __future__ import annotations

from functools import cache

from .choices import Tier
from .models import OrgUnit, Team, TeamMembership, User

_SCOPE_SQL = """
    SELECT 't' AS kind, team_id AS team, NULL AS path FROM {membership} WHERE user_id = %(user)s
    UNION ALL
    SELECT 'm', NULL, u.path FROM {managed} m JOIN {units} u ON u.id = m.orgunit_id
    WHERE m.user_id = %(user)s
    UNION ALL
    SELECT 's', t.id, u.path FROM {teams} t
    JOIN {membership} tm ON tm.team_id = t.id AND tm.user_id = %(user)s
    LEFT JOIN {served} s ON s.team_id = t.id LEFT JOIN {units} u ON u.id = s.orgunit_id
    WHERE t.tier = %(front)s
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
