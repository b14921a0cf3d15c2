"""API throttling per person and per anonymous client address (issue 17, item 1).

DRF's throttles read their rates once, at import; these read `REST_FRAMEWORK
["DEFAULT_THROTTLE_RATES"]` on every request, so the rates follow the settings (environment
variables API_THROTTLE_USER / API_THROTTLE_ANON / API_THROTTLE_LOGIN, and tests). Counts live in
the shared cache (Redis), so every web process sees the same history. The client's address is
the one the login lockout uses (accounts.lockout.client_ip, aware of trusted proxies).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from servicedesk.redis_outage import UNREACHABLE, redis_outage

from .lockout import client_ip


class LiveRatesMixin:
    def allow_request(self, request, view):
        """Counted in Redis; while Redis is unreachable the request goes through (the sign-in
        lockout, kept in the database, still guards passwords) and the outage is logged once
        per outage, not a traceback per request."""
        try:
            allowed = super().allow_request(request, view)
        except UNREACHABLE as exc:
            redis_outage.failed("throttle checks", exc)
            return True
        if getattr(self, "key", None) is not None:  # only a check that reached Redis says so
            redis_outage.succeeded()
        return allowed

    def get_rate(self):
        return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(self.scope)

    def get_ident(self, request):
        return client_ip(request) or super().get_ident(request)


class DeskAnonRateThrottle(LiveRatesMixin, AnonRateThrottle):
    """Requests without credentials (or with bad ones), per client address."""


class DeskUserRateThrottle(LiveRatesMixin, UserRateThrottle):
    """Requests of a signed-in person or API token, per person."""


class LoginRateThrottle(LiveRatesMixin, SimpleRateThrottle):
    """The token endpoint, per client address, whoever's credentials are tried."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
