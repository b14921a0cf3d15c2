"""Browser-side hardening headers on every kind of page (issue 17, item 2).

Before the fix no HTML page had a Content-Security-Policy or a Permissions-Policy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from tests.factories import TicketFactory

BASE = Path(settings.BASE_DIR)
# The project's templates and each app's own (not those of installed packages).
TEMPLATE_FILES = sorted(
    path
    for folder in [BASE / "templates", *BASE.glob("*/templates")]
    if ".venv" not in folder.parts
    for path in folder.rglob("*.html")
    # E-mail bodies are read in mail clients, which only honour inline styles; no page of the
    # desk serves them.
    if "email" not in path.parts
)


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def assert_hardened(response):
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_sign_in_page(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_hardened(response)


@pytest.mark.parametrize(
    "who, url",
    [
        ("requester", "/portal/"),
        ("requester", "/portal/new/"),
        ("requester", "/portal/requests/{number}/"),
        ("tier1", "/workspace/"),
        ("tier1", "/workspace/tickets/{number}/"),
        ("manager", "/workspace/dashboard/"),
        ("admin", "/admin/"),
        ("admin", "/admin/accounts/user/"),
        ("requester", "/notifications/"),
        ("requester", "/api/docs/"),
        ("requester", "/accounts/password/"),
        ("requester", "/no-such-page/"),
    ],
)
def test_every_page_kind(desk, client, who, url):
    user = getattr(desk, who)
    if who == "admin":
        user.is_superuser = True
        user.save()
    ticket = TicketFactory(desk).queued()
    client.force_login(user)
    response = client.get(url.format(number=ticket.number))
    assert response.status_code in (200, 404), (url, response.status_code)
    assert_hardened(response)


def test_api_answers(desk, client):
    token = Token.objects.create(user=desk.requester)
    response = client.get("/api/tickets/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert_hardened(response)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(BASE)))
def test_no_template_has_inline_script_or_style(path):
    text = path.read_text()
    # JSON data blocks (json_script) are not executed and are allowed.
    scripts = [m for m in INLINE_SCRIPT.findall(text) if "application/json" not in m]
    assert scripts == []
    assert INLINE_HANDLER.findall(text) == []
    assert INLINE_STYLE.findall(text) == []
    assert JS_URL.findall(text) == []
