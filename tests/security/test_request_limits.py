"""Hostile requests never reach a 500: NUL bytes in URLs, deep or wide JSON, oversized bodies.

Issue 17 item 3: each of these answered 500 (or HTML on /api/) before the fix.
"""

from __future__ import annotations

import json

import pytest

from tests.factories import client_for
from tickets.models import Ticket

NUL_PATHS = ["/portal/requests/%00/", "/workspace/tickets/%00/", "/api/tickets/%00/"]
NUL_QUERIES = ["/workspace/?after=%00~5", "/portal/?q=%00", "/workspace/?%00=1"]


@pytest.mark.parametrize("url", NUL_PATHS)
def test_a_nul_byte_in_the_path_is_404(desk, client, url):
    client.force_login(desk.admin)
    response = client.get(url)
    assert response.status_code == 404
    if url.startswith("/api/"):
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("url", NUL_QUERIES)
def test_a_nul_byte_in_the_query_is_400(desk, client, url):
    client.force_login(desk.admin)
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_nul_byte_in_an_api_query_is_a_field_error(desk, client):
    client.force_login(desk.admin)
    response = client.get("/api/tickets/?search=%00&status=new&ordering=a%00b")
    assert response.status_code == 400
    assert response.json() == {
        "search": ["A NUL character is not allowed here."],
        "ordering": ["A NUL character is not allowed here."],
    }


def nested(depth: int) -> str:
    return '{"title": "Deep", "extra": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [33, 500, 5000, 200_000])
def test_deeply_nested_json_is_400_with_a_field_message(desk, depth):
    response = client_for(desk.requester).generic(
        "POST", "/api/tickets/", nested(depth), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The JSON body is nested deeper than 32 levels."}
    assert not Ticket.objects.exists()


def test_json_nested_within_the_limit_is_parsed(desk):
    response = client_for(desk.requester).generic(
        "POST", "/api/tickets/", nested(30), content_type="application/json"
    )
    # Parsed, then the serializer ignores the unknown field: the ticket is created.
    assert response.status_code == 201, response.content


def test_a_json_body_with_too_many_keys_is_400(desk):
    body = {"title": "Wide", **{f"k{i}": i for i in range(100_000)}}
    response = client_for(desk.requester).generic(
        "POST", "/api/tickets/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The JSON body has more than 1000 keys."}
    assert not Ticket.objects.exists()


def test_keys_are_counted_over_the_whole_body(desk):
    body = {"title": "Wide", "extra": [{f"k{i}": i for i in range(100)} for _ in range(20)]}
    response = client_for(desk.requester).generic(
        "POST", "/api/tickets/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The JSON body has more than 1000 keys."}


def test_too_many_form_fields_on_the_api_answer_json(desk):
    fields = "&".join(f"f{i}=1" for i in range(1500))
    response = client_for(desk.requester).generic(
        "POST", "/api/tickets/", fields, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request has too many fields."}


def test_a_form_body_too_large_on_the_api_answers_json(desk):
    body = "title=x&description=" + "d" * (3 * 1024 * 1024)
    response = client_for(desk.requester).generic(
        "POST", "/api/tickets/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request body is too large."}


def test_too_many_fields_with_a_session_on_the_api_answer_json(desk, client):
    # A session-authenticated POST: the CSRF middleware reads the form before any view runs.
    client.force_login(desk.requester)
    fields = "&".join(f"f{i}=1" for i in range(1500))
    response = client.generic(
        "POST", "/api/tickets/", fields, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request has too many fields."}


def test_too_many_fields_on_a_web_form_stay_a_page(desk, client):
    client.force_login(desk.requester)
    fields = "&".join(f"f{i}=1" for i in range(1500))
    response = client.generic(
        "POST", "/portal/new/", fields, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
