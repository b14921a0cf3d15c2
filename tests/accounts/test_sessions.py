"""Sessions written to PostgreSQL and read from Redis (servicedesk/sessions.py), and the
person loaded with their permissions in one statement (accounts/backends.py): what a signed-in
request reads, what survives a Redis restart, what a sign-out ends, and what happens while
Redis is unreachable."""

from __future__ import annotations

import logging
import socket

import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.backends import DeskModelBackend
from accounts.choices import Role
from accounts.models import User
from servicedesk.redis_outage import redis_outage
from servicedesk.sessions import SessionStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def cached_key(key: str) -> str:
    return caches["default"].make_key(SessionStore(key).cache_key)


def redis_client():
    return caches["default"]._cache.get_client()


@pytest.fixture
def signed_in(desk) -> Client:
    client = Client()
    client.force_login(desk.tier1)
    return client


def test_a_signed_in_request_reads_no_session_row(signed_in):
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get("/")
    assert response.status_code == 302 and response["Location"] == "/workspace/"
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if "django_session" in q]
    assert len(sql) == 1  # the person with their permissions and roles


def test_the_session_is_kept_in_the_database_and_survives_losing_the_cache(signed_in):
    key = session_key(signed_in)
    assert Session.objects.filter(session_key=key).exists()
    redis_client().delete(cached_key(key))  # as a Redis restart without persistence
    assert signed_in.get("/").status_code == 302
    assert signed_in.get("/").headers["Location"] == "/workspace/"
    assert redis_client().exists(cached_key(key))  # read back into the cache


def test_a_cached_copy_lives_at_most_the_configured_seconds(signed_in, settings):
    key = session_key(signed_in)
    assert 0 < redis_client().ttl(cached_key(key)) <= settings.SESSION_CACHE_SECONDS
    assert settings.SESSION_CACHE_SECONDS < settings.SESSION_COOKIE_AGE


def test_signing_out_ends_the_session_everywhere(desk):
    client = Client()
    client.force_login(desk.tier1)
    key = session_key(client)
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stolen.get("/").headers["Location"] == "/workspace/"
    assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert not redis_client().exists(cached_key(key))
    assert stolen.get("/").headers["Location"].startswith("/accounts/login/")


def test_a_changed_password_ends_other_sessions(desk):
    client = Client()
    client.force_login(desk.tier1)
    user = User.objects.get(pk=desk.tier1.pk)
    user.set_password("another secret phrase")
    user.save()
    # The session is still cached, but it names the old password's hash.
    assert client.get("/").headers["Location"].startswith("/accounts/login/")


def test_a_deactivated_person_is_signed_out_at_once(desk):
    client = Client()
    client.force_login(desk.tier1)
    User.objects.filter(pk=desk.tier1.pk).update(is_active=False)
    assert client.get("/").headers["Location"].startswith("/accounts/login/")


@pytest.fixture
def unreachable_redis(settings):
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }
    redis_outage.reset()
    yield
    redis_outage.reset()


def test_signing_in_and_browsing_work_while_redis_is_unreachable(desk, unreachable_redis, caplog):
    user = UserFactory(username="dana", roles=[Role.FRONT_TIER1])
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    with caplog.at_level(logging.WARNING, logger="servicedesk.redis"):
        response = client.post("/accounts/login/", {"username": "dana", "password": PASSWORD})
        assert response.status_code == 302
        assert client.get("/").headers["Location"] == "/workspace/"
        assert client.post("/accounts/logout/").status_code == 302
        assert client.get("/").headers["Location"].startswith("/accounts/login/")
    assert redis_outage.down
    assert {"session reads", "session writes", "session deletes"} <= set(redis_outage.affected)
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1


# --- the person and their permissions ----------------------------------------------------


@pytest.mark.parametrize("roles", [[Role.REQUESTER], [Role.FRONT_TIER1, Role.MANAGER], []])
def test_get_user_brings_the_permissions_django_would_load(roles):
    user = UserFactory(roles=roles)
    with CaptureQueriesContext(connection) as queries:
        loaded = DeskModelBackend().get_user(user.pk)
        permissions = loaded.get_all_permissions()
        role_names = loaded.role_names
    assert len(queries) == 1
    assert loaded == user
    assert permissions == ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    assert role_names == set(user.groups.values_list("name", flat=True))
    assert [getattr(loaded, f.attname) for f in User._meta.concrete_fields] == [
        getattr(User.objects.get(pk=user.pk), f.attname) for f in User._meta.concrete_fields
    ]


def test_get_user_of_nobody_an_inactive_person_or_a_superuser():
    assert DeskModelBackend().get_user(10**12) is None
    assert DeskModelBackend().get_user(UserFactory(is_active=False).pk) is None
    admin = DeskModelBackend().get_user(UserFactory(is_superuser=True).pk)
    assert len(admin.get_all_permissions()) == len(
        ModelBackend().get_all_permissions(User.objects.get(pk=admin.pk))
    )
