"""Brute-force protection of every sign-in: the web login, the admin login, the token endpoint.

django-axes counts failed sign-ins per username and per client address (AccessAttempt rows)
and locks either out for `AXES_COOLOFF_TIME` after `AXES_FAILURE_LIMIT` failures. This module
is what a locked-out person or client sees: a 429 with `Retry-After` and a message saying
how long to wait — JSON on the API, the sign-in page elsewhere — and how the client's address
is found behind a reverse proxy (`TRUSTED_PROXY_COUNT`).
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

TOO_MANY_REQUESTS = 429


def cooloff_seconds() -> int:
    cooloff = settings.AXES_COOLOFF_TIME
    if isinstance(cooloff, timedelta):
        return int(cooloff.total_seconds())
    return int(float(cooloff) * 3600)  # axes reads a bare number as hours


def lockout_message() -> str:
    minutes = math.ceil(cooloff_seconds() / 60)
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
        "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_json() -> JsonResponse:
    response = JsonResponse({"detail": lockout_message()}, status=TOO_MANY_REQUESTS)
    response["Retry-After"] = str(cooloff_seconds())
    return response


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: what a locked-out sign-in gets instead of the login page."""
    if request.path_info.startswith("/api/"):
        return lockout_json()
    response: HttpResponse = render(
        request,
        "registration/locked_out.html",
        {"message": lockout_message(), "login_url": request.path},
        status=TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(cooloff_seconds())
    return response


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address, behind `TRUSTED_PROXY_COUNT` proxies.

    Behind a reverse proxy REMOTE_ADDR is the proxy's: every person would share one address
    and one failure count. Each trusted proxy appends the address it received from to
    X-Forwarded-For, so the client is the Nth entry from the right; entries further left are
    whatever the client sent and are never trusted.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    remote = request.META.get("REMOTE_ADDR")
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


def token_lockout_response(request) -> JsonResponse | None:
    """The 429 for the token endpoint, when axes flagged this (DRF) request as locked out."""
    if getattr(request, "axes_locked_out", False):
        return lockout_json()
    return None
