"""The roles of PRODUCT.md §1 as groups with exactly their capability permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.choices import Role
from accounts.roles import CAPABILITIES, ROLE_CAPABILITIES, sync_role_groups
from tests.factories import UserFactory

# The role matrix, written out: changing who may do what must change this table on purpose.
EXPECTED = {
    Role.REQUESTER: {"submit_request"},
    Role.FRONT_TIER1: {
        "handle_tickets",
        "resolve_tickets",
        "manage_knowledge",
        "log_on_behalf",
        "dispatch_tickets",
        "make_return_visits",
    },
    Role.FRONT_TIER2: {
        "handle_tickets",
        "resolve_tickets",
        "manage_knowledge",
        "log_on_behalf",
        "dispatch_tickets",
        "make_return_visits",
        "override_priority",
    },
    Role.MIDDLE_EXPERT: {
        "handle_tickets",
        "resolve_tickets",
        "manage_knowledge",
        "dispatch_tickets",
        "verify_fixes",
        "override_priority",
        "manage_incidents",
    },
    Role.BACK_ENGINEER: {"handle_tickets", "resolve_tickets", "manage_knowledge"},
    Role.QA_INSPECTOR: {"inspect_quality", "make_return_visits", "view_reports"},
    Role.MANAGER: {"view_reports", "override_priority", "manage_knowledge"},
    Role.ADMINISTRATOR: set(CAPABILITIES),
}


def group_codenames(role: str) -> set[str]:
    group = Group.objects.get(name=str(role))
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_the_data_migration_created_one_group_per_role(db):
    names = set(Group.objects.filter(name__in=Role.values).values_list("name", flat=True))
    assert names == set(Role.values)


@pytest.mark.parametrize("role", Role.values)
def test_each_role_group_has_exactly_its_capabilities(db, role):
    assert ROLE_CAPABILITIES[role] == EXPECTED[role]
    assert group_codenames(role) == {f"accounts.{c}" for c in EXPECTED[role]}


@pytest.mark.parametrize("role", Role.values)
def test_a_user_in_a_role_may_do_what_the_role_may_and_nothing_else(db, role):
    user = UserFactory(roles=[role])
    for codename in CAPABILITIES:
        assert user.has_perm(f"accounts.{codename}") is (codename in EXPECTED[role]), codename


def test_the_separations_the_process_relies_on(db):
    """The few rules the lifecycle depends on, stated plainly."""
    people = {role: UserFactory(roles=[role]) for role in Role.values}
    verifiers = {r for r, u in people.items() if u.has_perm("accounts.verify_fixes")}
    assert verifiers == {Role.MIDDLE_EXPERT, Role.ADMINISTRATOR}
    agents = {r for r, u in people.items() if u.has_perm("accounts.handle_tickets")}
    assert agents == {
        Role.FRONT_TIER1,
        Role.FRONT_TIER2,
        Role.MIDDLE_EXPERT,
        Role.BACK_ENGINEER,
        Role.ADMINISTRATOR,
    }
    assert not people[Role.BACK_ENGINEER].has_perm("accounts.dispatch_tickets")
    assert not people[Role.FRONT_TIER1].has_perm("accounts.override_priority")
    assert not people[Role.MANAGER].has_perm("accounts.handle_tickets")
    assert not people[Role.REQUESTER].has_perm("accounts.view_all_tickets")
    assert people[Role.QA_INSPECTOR].has_perm("accounts.inspect_quality")
    assert people[Role.ADMINISTRATOR].has_perm("accounts.configure_desk")


def test_a_user_with_two_roles_has_both_sets(db):
    user = UserFactory(roles=[Role.QA_INSPECTOR, Role.FRONT_TIER1])
    assert user.has_perm("accounts.inspect_quality")
    assert user.has_perm("accounts.dispatch_tickets")
    assert user.is_agent
    assert user.role_names == {"qa_inspector", "front_tier1"}


def test_syncing_the_roles_again_changes_nothing_and_repairs_drift(db):
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    group = Group.objects.get(name=Role.REQUESTER)
    group.permissions.add(Permission.objects.get(codename="configure_desk"))
    sync_role_groups(Group, Permission, ContentType)
    sync_role_groups(Group, Permission, ContentType)
    for role in Role.values:
        assert group_codenames(role) == {f"accounts.{c}" for c in EXPECTED[role]}
    assert Group.objects.filter(name__in=Role.values).count() == len(Role.values)
