"""What `/healthz` reports beyond the database: checks the domain apps register.

The foundation knows no domain app, so an app that has something a deployment must watch
(reactions parked after their last try, a backlog of tickets waiting for intake) registers a
check here in its `AppConfig.ready()`:

    health.register("reactions_parked", reactions.parked_count)

A check returns a JSON-serialisable value (usually a count) for the details of the answer; a
check that raises makes the answer 503 with the error's type, so a broken part is seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

_checks: dict[str, Callable[[], Any]] = {}


def register(name: str, check: Callable[[], Any]) -> None:
    """Add `check()` to the health answer under `name` (registering a name again replaces it)."""
    _checks[name] = check


def unregister(name: str) -> None:
    _checks.pop(name, None)


def registered() -> list[str]:
    return sorted(_checks)


def run_checks() -> tuple[bool, dict[str, Any]]:
    """Every registered check's value by name; False when one of them raised."""
    healthy, details = True, {}
    for name in sorted(_checks):
        try:
            details[name] = _checks[name]()
        except Exception as exc:
            logger.exception("health check %s failed", name)
            healthy = False
            details[name] = {"error": type(exc).__name__}
    return healthy, details
