"""Sessions kept in PostgreSQL and read from Redis (`SESSION_ENGINE`).

Django's database sessions read their row on every request: an ORM query compiled and sent
for each page and API call of a signed-in browser (docs/benchmarks.md, "HTTP throughput (item
5)"). This is Django's cached_db engine: every write still goes to the database first, so a
session outlives a Redis restart; reads come from the cache and fall back to the row.

Two things differ from Django's engine:
- while Redis is unreachable, a session is read and written in the database alone and the
  outage is reported once (`servicedesk.redis_outage`), as every other use of Redis does, so
  signing in and browsing keep working (Django's engine answers 500 when its cache raises);
- a cached copy lives at most SESSION_CACHE_SECONDS (10 minutes), however long the session
  itself: a sign-out whose cache delete failed during an outage leaves a copy that expires
  soon after, rather than one valid for the session's whole age.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore

from .redis_outage import UNREACHABLE, redis_outage


class SessionStore(CachedDBStore):
    def _cache_seconds(self, age: int) -> int:
        return max(0, min(age, getattr(settings, "SESSION_CACHE_SECONDS", 600)))

    def _cache_set(self, data: dict, age: int) -> None:
        try:
            self._cache.set(self.cache_key, data, self._cache_seconds(age))
        except UNREACHABLE as exc:
            redis_outage.failed("session writes", exc)

    def load(self) -> dict:
        try:
            data = self._cache.get(self.cache_key)
        except UNREACHABLE as exc:
            redis_outage.failed("session reads", exc)
            return DBStore.load(self)
        if data is not None:
            return data
        row = self._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        self._cache_set(data, self.get_expiry_age(expiry=row.expire_date))
        return data

    def exists(self, session_key) -> bool:
        # Asked for a new key only: the database, which holds every session, answers.
        return DBStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DBStore.save(self, must_create)
        self._cache_set(self._session, self.get_expiry_age())

    def delete(self, session_key=None) -> None:
        DBStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except UNREACHABLE as exc:
            redis_outage.failed("session deletes", exc)
