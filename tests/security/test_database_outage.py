"""A database outage on the API is a JSON 503 with Retry-After, not an HTML 500 (issue 17, 16).

The outage is real: the desk's connection is pointed at a loopback port where nothing
listens (connection refused), as when PostgreSQL is down, then put back.
"""

from __future__ import annotations

import logging
import socket

import pytest
from django.db import connections
from django.test import Client
from rest_framework.authtoken.models import Token


@pytest.fixture
def database_down(transactional_db):
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    # A port that was just free: nothing answers there, so every connect is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def stop():
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(port))

    yield stop
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


def test_the_api_answers_json_503_while_the_database_is_down(desk, database_down, caplog):
    token = Token.objects.create(user=desk.requester)
    client = Client(raise_request_exception=False)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.get("/api/tickets/", **headers).status_code == 200
    database_down()
    with caplog.at_level(logging.ERROR, logger="servicedesk.errors"):
        responses = [client.get("/api/tickets/", **headers) for _ in range(3)]
        created = client.post(
            "/api/tickets/", {"title": "VPN down"}, content_type="application/json", **headers
        )
    for response in [*responses, created]:
        assert response.status_code == 503
        assert response["Content-Type"] == "application/json"
        assert response["Retry-After"] == "10"
        assert response.json() == {
            "detail": "The service is temporarily unavailable. Try again shortly."
        }
    # One line for the outage, not a traceback per request.
    outage_lines = [r for r in caplog.records if r.name == "servicedesk.errors"]
    assert len(outage_lines) <= 1
    assert all(r.exc_info is None for r in outage_lines)


def test_a_session_client_gets_json_503_too(desk, database_down):
    client = Client(raise_request_exception=False)
    client.force_login(desk.requester)
    database_down()
    response = client.get("/api/tickets/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json()["detail"].startswith("The service is temporarily unavailable")
