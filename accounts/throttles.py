"""API throttling per person and per anonymous client address (issue 17, item 1).

DRF's throttles read their rates once, at import; these read `REST_FRAMEWORK
["DEFAULT_THROTTLE_RATES"]` on every request, so the rates follow the settings (environment
variables API_THROTTLE_USER / API_THROTTLE_ANON / API_THROTTLE_LOGIN, and tests). Counts live in
the shared cache (Redis), so every web process sees the same history. The client's address is
the one the login lockout uses (accounts.lockout.client_ip, aware of trusted proxies).

The window is DRF's (at most N requests in any period ending now, the wait until the oldest of
them leaves it), kept in Redis as a sorted set of request times that one script trims, counts
and extends: one round trip per check, atomic across processes. DRF's own throttle reads the
whole list of times into Python and writes it back (two round trips and a pickle of up to N
floats per request, and two processes at once could each write back their own list); that was
the largest cost of `POST /api/tickets/` outside the view (docs/benchmarks.md, "Ticket core").
"""

from __future__ import annotations

import os

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from servicedesk.redis_outage import UNREACHABLE, redis_outage

from .lockout import client_ip

# KEYS[1]: the times of the caller's recent requests; ARGV: now, period (s), limit, a unique
# member. Drops the times that left the period (DRF: `<= now - period`), then either refuses
# (with the count and the oldest time, for Retry-After) or records this request.
WINDOW_SCRIPT = """
local period = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - period)
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, oldest[2]}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(period))
return {1, count + 1, ARGV[1]}
"""
_window_script = None  # redis-py's script object: its SHA, loaded into Redis on first use


def window_script(client):
    global _window_script
    if _window_script is None:
        _window_script = client.register_script(WINDOW_SCRIPT)
    return _window_script


class LiveRatesMixin:
    def allow_request(self, request, view):
        """Counted in Redis; while Redis is unreachable the request goes through (the sign-in
        lockout, kept in the database, still guards passwords) and the outage is logged once
        per outage, not a traceback per request."""
        try:
            if hasattr(self.cache, "_cache") and hasattr(self.cache._cache, "get_client"):
                allowed = self._allow_in_redis(request, view)
            else:  # another cache backend: DRF's list of times in the cache
                allowed = super().allow_request(request, view)
        except UNREACHABLE as exc:
            redis_outage.failed("throttle checks", exc)
            return True
        if getattr(self, "key", None) is not None:  # only a check that reached Redis says so
            redis_outage.succeeded()
        return allowed

    def _allow_in_redis(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        redis_key = self.cache.make_and_validate_key(f"{self.key}:window")
        client = self.cache._cache.get_client(redis_key, write=True)
        member = f"{self.now!r}:{os.urandom(4).hex()}"  # two requests in the same microsecond
        allowed, self.recent, oldest = window_script(client)(
            keys=[redis_key],
            args=[repr(self.now), self.duration, self.num_requests, member],
            client=client,
        )
        self.oldest = float(oldest) if oldest else self.now
        return bool(allowed)

    def wait(self):
        """Seconds until a request is allowed again, as DRF computes it."""
        if not hasattr(self, "recent"):
            return super().wait()
        remaining = self.duration - (self.now - self.oldest)
        available = self.num_requests - self.recent + 1
        if available <= 0:
            return None
        return remaining / float(available)

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
