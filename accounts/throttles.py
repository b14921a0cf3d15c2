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

from .lockout import client_ip


class LiveRatesMixin:
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
