"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache operation,
and redis-py fills a fresh table of about 170 response callbacks in each one: measured on
`POST /api/tickets/` (three cache operations: the throttle's read and write, the intake's
wake-up) this was a quarter of the request's Python time outside the view
(docs/benchmarks.md, "Ticket core"). A `redis.Redis` holds no per-call state and takes a
connection from its pool for each command, so one per pool is safe to share between the
threads of a gthread worker, as redis-py documents. Connections, timeouts and the error
behaviour (a Redis outage raises the same exceptions) are unchanged.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Keyed by the pool: with replicas each server keeps its own client.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `SharedClientRedisCacheClient`."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
