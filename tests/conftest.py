"""Shared fixtures: a small desk (units, teams at every tier, people in every role)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group

from accounts.choices import Role, Tier
from accounts.models import OrgUnit, Team, User
from catalog.models import InformationSystem
from tests.factories import SystemFactory, TeamFactory, UserFactory, agent, unit_root


@dataclass
class Desk:
    group: OrgUnit
    unit_a: OrgUnit
    unit_b: OrgUnit
    front: Team
    middle: Team
    back: Team
    system: InformationSystem
    requester: User
    other_requester: User
    tier1: User
    tier2: User
    expert: User
    engineer: User
    manager: User
    admin: User
    outsider_agent: User


@pytest.fixture
def desk(db) -> Desk:
    group = unit_root()
    unit_a = group.add_child(code="unit-a", name="Unit A", kind="company")
    unit_b = group.add_child(code="unit-b", name="Unit B", kind="company")
    back = TeamFactory(code="back-core", name="Core systems", tier=Tier.BACK)
    middle = TeamFactory(
        code="middle-app",
        name="Application experts",
        tier=Tier.MIDDLE,
        escalates_to=back,
        is_on_duty=True,
    )
    front = TeamFactory(code="front", name="Front office", tier=Tier.FRONT, escalates_to=middle)
    other_team = TeamFactory(code="front-other", name="Other front", tier=Tier.FRONT)
    # Each front office answers the callers of one unit (and may read their tickets).
    front.served_units.add(unit_a)
    other_team.served_units.add(unit_b)
    system = SystemFactory(code="trading", name="Trading", owner_team=back, is_core=True)
    manager = UserFactory(username="manager", roles=[Role.MANAGER])
    manager.managed_units.add(unit_a)
    return Desk(
        group=group,
        unit_a=unit_a,
        unit_b=unit_b,
        front=front,
        middle=middle,
        back=back,
        system=system,
        requester=UserFactory(username="alice", unit=unit_a, roles=[Role.REQUESTER]),
        other_requester=UserFactory(username="bob", unit=unit_b, roles=[Role.REQUESTER]),
        tier1=agent(front, Role.FRONT_TIER1, username="tier1"),
        tier2=agent(front, Role.FRONT_TIER2, username="tier2"),
        expert=agent(middle, Role.MIDDLE_EXPERT, username="expert"),
        engineer=agent(back, Role.BACK_ENGINEER, username="engineer"),
        manager=manager,
        admin=UserFactory(username="admin", roles=[Role.ADMINISTRATOR], is_staff=True),
        outsider_agent=agent(other_team, Role.FRONT_TIER1, username="outsider"),
    )


DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.fixture(scope="session", autouse=True)
def _fresh_test_redis():
    """Start the run with an empty test Redis database (its own number, `TEST_REDIS_DB`).

    A test database created again reuses ids, so keys an earlier run left (an integration's
    per-minute alert budget, queued tasks, cached rules) would otherwise be read as this
    run's."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def replay_data_migrations() -> None:
    """Run every data migration (RunPython) of the project's apps again, in migration order.

    A transactional test empties every table when it ends (Django's flush), which takes the
    rows that data migrations wrote (role groups, default taxonomy, SLA policies, the priority
    matrix) with it. The data migrations are written to be idempotent, so replaying them on an
    empty database gives exactly what `migrate` gave.
    """
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    seen: set = set()
    with connection.schema_editor(atomic=True) as schema_editor:
        for leaf in sorted(loader.graph.leaf_nodes()):
            for key in loader.graph.forwards_plan(leaf):
                if key in seen or key[0] in {
                    "auth",
                    "contenttypes",
                    "admin",
                    "sessions",
                    "authtoken",
                }:
                    continue
                seen.add(key)
                for operation in loader.graph.nodes[key].operations:
                    if isinstance(operation, RunPython):
                        operation.code(apps, schema_editor)


@pytest.fixture(autouse=True)
def _migrated_data(request):
    """Make sure the migrated reference data exists for every test that uses the database."""
    uses_db = DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker(
        "django_db"
    )
    if not uses_db:
        return
    request.getfixturevalue(
        "transactional_db"
        if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
        else "db"
    )
    if not Group.objects.exists():
        replay_data_migrations()
