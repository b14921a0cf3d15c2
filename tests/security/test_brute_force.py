"""Brute-force protection (issue 17, item 1): lockout per username and per address, on the
web login, the admin login and the token endpoint; DRF throttling per user and anonymous.

Before the fix 30 wrong passwords in a row were all answered normally and the right password
then worked.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.choices import Role
from tests.factories import UserFactory

PASSWORD = "pw-Secret-123"  # the factories' password
LIMIT = 5  # AXES_FAILURE_LIMIT in the test settings
COOLOFF_SECONDS = 15 * 60
MESSAGE = "Too many failed sign-in attempts. Try again in 15 minutes."


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", roles=[Role.REQUESTER])


def web_login(client, username, password, *, ip="10.9.0.1", path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_the_web_login_locks_a_username_after_repeated_failures(client, alice):
    for _ in range(LIMIT - 1):
        response = web_login(client, "alice", "wrong")
        assert response.status_code == 200  # the form again, with its error
    locked = web_login(client, "alice", "wrong")
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(COOLOFF_SECONDS)
    assert MESSAGE in locked.content.decode()
    # The right password no longer works, from any address, until the cool-off ends.
    again = web_login(client, "alice", PASSWORD, ip="10.9.0.77")
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_web_login_locks_an_address_trying_many_usernames(client, db):
    for i in range(LIMIT):
        UserFactory(username=f"user{i}")
        web_login(client, f"user{i}", "wrong", ip="10.9.0.2")
    UserFactory(username="victim")
    response = web_login(client, "victim", PASSWORD, ip="10.9.0.2")
    assert response.status_code == 429
    # Another address is not affected.
    assert web_login(client, "victim", PASSWORD, ip="10.9.0.3").status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, alice):
    for _ in range(LIMIT - 1):
        web_login(client, "alice", "wrong")
    assert web_login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        assert web_login(client, "alice", "wrong").status_code == 200


def test_the_admin_login_is_protected(client, db):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    for _ in range(LIMIT):
        web_login(client, "root", "wrong", path="/admin/login/")
    response = web_login(client, "root", PASSWORD, path="/admin/login/")
    assert response.status_code == 429
    assert response["Retry-After"] == str(COOLOFF_SECONDS)
    assert MESSAGE in response.content.decode()


def token(client, username, password, ip="10.9.0.4"):
    return client.post(
        "/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_the_token_endpoint_locks_out_with_json_and_retry_after(alice):
    client = APIClient()
    assert token(client, "alice", PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        response = token(client, "alice", "wrong")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["Unable to log in with provided credentials."]
        }
    locked = token(client, "alice", "wrong")
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(COOLOFF_SECONDS)
    assert locked.json() == {"detail": MESSAGE}
    assert token(client, "alice", PASSWORD).status_code == 429


def test_the_token_endpoint_takes_json_bodies(alice):
    response = APIClient().post(
        "/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert len(response.json()["token"]) == 40


@pytest.fixture
def low_rates(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "4/minute", "login": "3/minute"},
    }
    yield
    cache.clear()


def test_the_api_throttles_each_user(alice, low_rates):
    bob = UserFactory(username="bob", roles=[Role.REQUESTER])
    client = APIClient()
    client.force_authenticate(alice)
    statuses = [client.get("/api/tickets/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    throttled = client.get("/api/tickets/")
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["detail"].startswith("Request was throttled.")
    # Another person has their own allowance.
    client.force_authenticate(bob)
    assert client.get("/api/tickets/").status_code == 200


def test_the_api_throttles_anonymous_clients_by_address(db, low_rates):
    # The schema is open to anyone (and costly to build); without credentials the other
    # endpoints answer 401 before any throttle.
    client = APIClient()
    statuses = [client.get("/api/schema/", REMOTE_ADDR="10.9.1.1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/schema/", REMOTE_ADDR="10.9.1.2").status_code == 200


def test_the_token_endpoint_is_throttled_per_address(alice, low_rates):
    client = APIClient()
    statuses = [token(client, "nobody", "x", ip="10.9.1.3").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
