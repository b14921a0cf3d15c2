"""What `POST /api/tickets/` costs (issues #10, #11, #18): its exact queries, and the pieces of
the request path made cheaper for it — the API throttle's window in Redis, the input's field
copies, the Content-Security-Policy built once — behaving as before.

bench/request_cost.py measures the same request's CPU; numbers are never asserted here.
"""

from __future__ import annotations

import copy

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.authentication import DeskTokenAuthentication
from accounts.throttles import DeskUserRateThrottle
from servicedesk.api import shallow_copy
from tickets import services
from tickets.api.serializers import TicketCreateSerializer
from tickets.models import Ticket

BODY = {"title": "VPN cannot connect", "description": "The certificate expired."}


@pytest.fixture
def reactions_in_worker(settings):
    # As deployed: the intake reactions wait for the worker, the request only writes.
    settings.SERVICEDESK = {**settings.SERVICEDESK, "REACTIONS_IN_WORKER": ["ticket_created"]}


@pytest.fixture
def token_client(desk):
    token = Token.objects.create(user=desk.requester)
    return APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")


@pytest.mark.django_db(transaction=True)  # as deployed: no transaction around the request
def test_a_creation_costs_two_queries(desk, token_client, reactions_in_worker):
    token_client.post("/api/tickets/", {"title": "warm-up"}, format="json")
    with CaptureQueriesContext(connection) as ctx:
        response = token_client.post("/api/tickets/", BODY, format="json")
    assert response.status_code == 201, response.content
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) == 2, "\n".join(sql)
    # The token with its person, unit, permissions and roles; then one statement, its own
    # transaction: the number, the ticket, its creation entry, its search document.
    assert 'FROM "authtoken_token"' in sql[0] and '"accounts_orgunit"' in sql[0]
    assert "auth_permission" in sql[0]
    assert sql[1].startswith("EXECUTE tickets_ticket_create (")  # prepared by the warm-up
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.title, ticket.requester_id) == (BODY["title"], desk.requester.pk)
    assert ticket.intake_due_at is not None  # the worker's to route


def test_inside_a_transaction_the_statement_has_a_savepoint(desk, token_client):
    """Inside the caller's transaction (a test's, a mail poller's), a refused duplicate must
    leave it usable: the one statement runs in a savepoint."""
    assert desk.requester.has_perm("accounts.submit_request")  # read before, as a request has
    services.ticket_create(requester=desk.requester, created_by=desk.requester, title="Prepare")
    with CaptureQueriesContext(connection) as ctx:
        _ticket, created = services.ticket_create(
            requester=desk.requester, created_by=desk.requester, title="VPN", channel="api"
        )
    sql = [q["sql"] for q in ctx.captured_queries]
    assert created and len(sql) == 3, "\n".join(sql)
    assert sql[0].startswith("SAVEPOINT") and sql[2].startswith("RELEASE SAVEPOINT")


def test_a_creation_answer_carries_the_security_headers(
    desk, token_client, reactions_in_worker, settings
):
    response = token_client.post("/api/tickets/", BODY, format="json")
    assert response.status_code == 201
    policy = {
        part.split()[0]: part.split()[1:]
        for part in response["Content-Security-Policy"].split("; ")
    }
    assert policy == settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert response["Permissions-Policy"].startswith("accelerometer=()")


def test_the_policy_follows_the_settings(desk, token_client, settings, reactions_in_worker):
    token_client.post("/api/tickets/", BODY, format="json")  # the default policy is kept
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    response = token_client.post("/api/tickets/", BODY, format="json")
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_a_field_copy_is_what_copy_copy_makes():
    for field in TicketCreateSerializer._declared_fields.values():
        duplicate, expected = shallow_copy(field), copy.copy(field)
        assert type(duplicate) is type(expected) and duplicate is not field
        assert vars(duplicate) == vars(expected)


def test_input_fields_are_bound_per_request(desk, token_client, reactions_in_worker):
    """Each request's serializer has its own copies of the fields, bound to it."""
    first, second = TicketCreateSerializer(), TicketCreateSerializer()
    assert first.fields["title"] is not second.fields["title"]
    assert first.fields["title"].parent is first and second.fields["title"].parent is second
    assert TicketCreateSerializer._declared_fields["title"].parent is None
    # Validation is what it was: field messages, the related lookups, the defaults.
    wrong = token_client.post("/api/tickets/", {**BODY, "impact": 9, "system": 10**6})
    assert wrong.status_code == 400
    assert set(wrong.json()) == {"impact", "system"}
    assert token_client.post("/api/tickets/", {"title": "No description"}).status_code == 201


@pytest.fixture
def four_a_minute(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "4/minute", "login": "3/minute"},
    }
    yield
    cache.clear()


def test_the_throttle_window_slides(desk, token_client, four_a_minute, monkeypatch):
    """At most 4 requests in any minute: the fifth waits for the oldest to leave the window,
    as DRF's list of times did (now one sorted set in Redis)."""
    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(DeskUserRateThrottle, "timer", lambda self: clock["now"])
    statuses = []
    for second in (0, 10, 20, 30, 40):
        clock["now"] = 1_000_000.0 + second
        statuses.append(token_client.get("/api/tickets/").status_code)
    assert statuses == [200, 200, 200, 200, 429]
    clock["now"] = 1_000_000.0 + 45
    refused = token_client.get("/api/tickets/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "15"  # the request at 0 s leaves at 60 s
    clock["now"] = 1_000_000.0 + 60  # the first request left the window (DRF: `<= now - 60`)
    assert token_client.get("/api/tickets/").status_code == 200
    clock["now"] = 1_000_000.0 + 61
    assert token_client.get("/api/tickets/").status_code == 429


def test_token_authentication_loads_the_person_and_unit_in_one_query(desk):
    token = Token.objects.create(user=desk.requester)
    with CaptureQueriesContext(connection) as ctx:
        user, found = DeskTokenAuthentication().authenticate_credentials(token.key)
        assert (user.pk, found.key, user.unit.code) == (desk.requester.pk, token.key, "unit-a")
    assert len(ctx.captured_queries) == 1
    desk.requester.unit = None
    desk.requester.save(update_fields=["unit"])
    user, _found = DeskTokenAuthentication().authenticate_credentials(token.key)
    assert user.unit is None and user.unit_id is None


def test_a_wrong_or_inactive_token_is_refused(desk):
    token = Token.objects.create(user=desk.requester)
    wrong = APIClient(HTTP_AUTHORIZATION="Token " + "0" * 40).get("/api/tickets/")
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid token."})
    desk.requester.is_active = False
    desk.requester.save(update_fields=["is_active"])
    inactive = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}").get("/api/tickets/")
    assert (inactive.status_code, inactive.json()) == (401, {"detail": "User inactive or deleted."})


def test_the_cache_shares_one_redis_client_per_pool(db):
    """Django's Redis cache, except that its operations reuse one client (Django built a new
    `redis.Redis` for each); values still round-trip."""
    assert isinstance(cache._cache, RedisCacheClient)
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=True)
    cache.set("create-test", {"n": 1}, 30)
    assert cache.get("create-test") == {"n": 1} and cache.add("create-test", 2) is False
    cache.delete("create-test")
