"""A Redis outage is logged once, not once per request.

Redis is the broker and the cache. While it is unreachable, every part that uses it falls back
(a publish leaves its work to run in-process or to a beat job, a throttle lets the request
through, the intake drain's wake-up is skipped): nothing is lost, but at ten API creates a second
one traceback per fallback buried the log (issue 17, item 16). Each fallback reports here
instead: the first one of an outage logs a warning, a long outage a reminder a minute with the
counts so far, and the first success after it a warning that Redis is back, with how many
operations of each kind fell back meanwhile. Per process: each web and worker process says it
once. Errors that are not "cannot reach Redis" (a bug) are not handled here and keep their
traceback.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("servicedesk.redis")

#: What "Redis cannot be reached" looks like, from redis-py (the cache, the intake's wake-up)
#: and from kombu (a publish that gave up after its retries).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, KombuOperationalError, OSError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _counts(counter: Counter) -> str:
    return ", ".join(f"{count} {what}" for what, count in sorted(counter.items()))


class RedisOutage:
    """The process's view of the current Redis outage, if any (thread-safe)."""

    reminder_seconds = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget any outage (a test starts from a known state)."""
        self.down_since: float | None = None
        self.last_report = 0.0
        self.affected: Counter = Counter()

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, what: str, exc: BaseException) -> None:
        """One operation of kind `what` (e.g. "publish", "cache", "throttle") fell back."""
        with self._lock:
            self.affected[what] += 1
            now = time.monotonic()
            if self.down_since is None:
                self.down_since = self.last_report = now
                logger.warning(
                    "Redis unreachable (%s): falling back (publishes run in-process or wait "
                    "for the beat jobs, throttles let requests through) until it is back; "
                    "logged once per outage",
                    _first_line(exc),
                )
            elif now - self.last_report >= self.reminder_seconds:
                self.last_report = now
                logger.warning(
                    "Redis still unreachable after %.0f s (%s); fell back so far: %s",
                    now - self.down_since,
                    _first_line(exc),
                    _counts(self.affected),
                )

    def succeeded(self) -> None:
        """An operation reached Redis: if an outage was on, it is over."""
        if self.down_since is None:  # the usual case: no lock taken
            return
        with self._lock:
            if self.down_since is None:
                return
            seconds = time.monotonic() - self.down_since
            affected, self.affected = self.affected, Counter()
            self.down_since = None
        logger.warning(
            "Redis reachable again after %.0f s; fell back meanwhile: %s",
            seconds,
            _counts(affected),
        )


redis_outage = RedisOutage()
