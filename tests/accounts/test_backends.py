"""A person's permissions in one query (accounts/backends.py) and the API token that brings the
person's unit along (accounts/authentication.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from accounts.models import User
from tests.factories import UserFactory, unit_root

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no permission cache yet


def test_roles_and_direct_permissions_come_in_one_query():
    user = UserFactory(roles=[Role.REQUESTER])
    user.user_permissions.add(Permission.objects.get(codename="view_reports"))
    user = _fresh(user)

    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("accounts.submit_request")  # from the requester role
        assert user.has_perm("accounts.view_reports")  # given directly
        assert not user.has_perm("accounts.handle_tickets")
    assert len(queries) == 1
    assert user.get_all_permissions() >= {"accounts.submit_request", "accounts.view_reports"}


def test_the_set_is_what_djangos_model_backend_gives():
    from django.contrib.auth.backends import ModelBackend

    user = _fresh(UserFactory(roles=[Role.FRONT_TIER1, Role.MANAGER]))
    expected = ModelBackend().get_all_permissions(_fresh(user))
    assert expected  # the roles carry capabilities
    assert user.get_all_permissions() == expected


def test_inactive_people_and_object_checks_have_no_permissions():
    user = UserFactory(roles=[Role.FRONT_TIER1], is_active=False)
    assert _fresh(user).get_all_permissions() == set()
    active = _fresh(UserFactory(roles=[Role.FRONT_TIER1]))
    assert not active.has_perm("accounts.handle_tickets", obj=active)


def test_a_superuser_has_every_permission():
    admin = _fresh(UserFactory(is_superuser=True))
    assert len(admin.get_all_permissions()) == Permission.objects.count()


def test_a_token_brings_the_person_and_their_unit_in_one_query():
    unit = unit_root()
    user = UserFactory(roles=[Role.REQUESTER], unit=unit)
    token = Token.objects.create(user=user)
    from accounts.authentication import DeskTokenAuthentication

    with CaptureQueriesContext(connection) as queries:
        person, _token = DeskTokenAuthentication().authenticate_credentials(token.key)
        assert person.unit.code == unit.code
    assert len(queries) == 1


def test_a_token_brings_the_persons_permissions_and_roles_in_the_same_query():
    from django.contrib.auth.backends import ModelBackend

    from accounts.authentication import DeskTokenAuthentication

    user = UserFactory(roles=[Role.FRONT_TIER1, Role.MANAGER])
    user.user_permissions.add(Permission.objects.get(codename="view_reports"))
    token = Token.objects.create(user=user)
    expected = ModelBackend().get_all_permissions(_fresh(user))

    with CaptureQueriesContext(connection) as queries:
        person, _token = DeskTokenAuthentication().authenticate_credentials(token.key)
        assert person.get_all_permissions() == expected
        assert "accounts.view_reports" in expected
        assert person.role_names == {str(Role.FRONT_TIER1), str(Role.MANAGER)}
        assert not person.has_perm("accounts.nonexistent")
    assert len(queries) == 1


def test_a_superusers_token_still_has_every_permission():
    from accounts.authentication import DeskTokenAuthentication

    token = Token.objects.create(user=UserFactory(is_superuser=True))
    person, _token = DeskTokenAuthentication().authenticate_credentials(token.key)
    assert len(person.get_all_permissions()) == Permission.objects.count()


@pytest.mark.parametrize("header", ["Token nonsense", "Token "])
def test_a_wrong_token_is_401(header):
    client = APIClient()
    response = client.get("/api/tickets/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_a_deactivated_persons_token_is_401():
    user = UserFactory(roles=[Role.REQUESTER], is_active=False)
    token = Token.objects.create(user=user)
    response = APIClient().get("/api/tickets/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


def test_holders_among_is_what_with_perm_selects_of_those_people():
    from accounts.backends import holders_among

    by_role = UserFactory(username="agent", roles=[Role.FRONT_TIER1])
    direct = UserFactory(username="direct", roles=[Role.REQUESTER])
    direct.user_permissions.add(Permission.objects.get(codename="handle_tickets"))
    superuser = UserFactory(username="root", is_superuser=True)
    requester = UserFactory(username="requester", roles=[Role.REQUESTER])
    gone = UserFactory(username="gone", roles=[Role.FRONT_TIER1], is_active=False)
    outside = UserFactory(username="outside", roles=[Role.FRONT_TIER1])
    asked = [by_role.pk, direct.pk, superuser.pk, requester.pk, gone.pk]

    with CaptureQueriesContext(connection) as queries:
        found = holders_among("accounts.handle_tickets", asked)
    assert len(queries) == 1
    assert found == {by_role.pk, direct.pk, superuser.pk}
    assert found == set(
        User.objects.with_perm("accounts.handle_tickets")
        .filter(pk__in=asked)
        .values_list("pk", flat=True)
    )
    assert outside.pk not in found  # only the people asked about
    assert holders_among("accounts.handle_tickets", []) == set()


def _scope(user: User) -> tuple:
    return (user._team_ids, user._managed_unit_paths, user._served_unit_paths)


@pytest.mark.parametrize("who", ["tier1", "expert", "manager", "requester", "admin"])
def test_the_scope_read_with_the_person_is_the_scope_read_alone(desk, who):
    """The teams, managed units and served units that come with the person (one statement,
    accounts/backends.py) are what tickets.selectors.load_viewer_scope reads on its own."""
    from accounts.backends import user_with_permissions
    from tickets.selectors import load_viewer_scope

    person = getattr(desk, who)
    desk.middle.served_units.add(desk.unit_b)  # a middle office's units are not a front's
    with CaptureQueriesContext(connection) as queries:
        signed_in = user_with_permissions(person.pk)
        load_viewer_scope(signed_in)
    assert len(queries) == 1
    alone = _fresh(person)
    with CaptureQueriesContext(connection) as queries:
        load_viewer_scope(alone)
    assert len(queries) == 1
    assert _scope(signed_in) == _scope(alone)
    expected = {
        "tier1": ({desk.front.pk}, [], [desk.unit_a.path]),
        "expert": ({desk.middle.pk}, [], []),
        "manager": (set(), [desk.unit_a.path], []),
        "requester": (set(), [], []),
        "admin": (set(), [], []),
    }
    assert _scope(signed_in) == expected[who]


@pytest.mark.parametrize("who", ["tier1", "manager", "requester"])
def test_a_tokens_person_brings_the_same_scope_in_the_same_query(desk, who):
    from accounts.authentication import DeskTokenAuthentication
    from tickets.selectors import load_viewer_scope

    person = getattr(desk, who)
    token = Token.objects.create(user=person)
    with CaptureQueriesContext(connection) as queries:
        by_token, _token = DeskTokenAuthentication().authenticate_credentials(token.key)
        load_viewer_scope(by_token)
    assert len(queries) == 1
    alone = _fresh(person)
    load_viewer_scope(alone)
    assert _scope(by_token) == _scope(alone)
    assert (
        _scope(by_token)
        == {
            "tier1": ({desk.front.pk}, [], [desk.unit_a.path]),
            "manager": (set(), [desk.unit_a.path], []),
            "requester": (set(), [], []),
        }[who]
    )


def test_a_front_team_serving_every_unit_is_no_unit_limit(desk):
    from accounts.backends import user_with_permissions
    from tickets.selectors import load_viewer_scope

    desk.front.served_units.clear()  # serves every unit
    signed_in = user_with_permissions(desk.tier1.pk)
    load_viewer_scope(signed_in)
    assert _scope(signed_in) == ({desk.front.pk}, [], None)
