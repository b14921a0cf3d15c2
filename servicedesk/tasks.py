"""The project's Celery task decorator.

Every background job is declared with `desk_task` so the safety settings are the same
everywhere: `acks_late` (a task is acknowledged only after it ran, so a worker that dies
mid-task leaves it on the queue for another worker — tasks must therefore be idempotent), the
message is rejected back to the queue when the worker process is lost, a stable `name=` (task
names are part of the queue's wire format and must not change when a module moves), and soft
and hard time limits so a stuck job cannot hold a worker forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

from .redis_outage import UNREACHABLE, redis_outage

logger = logging.getLogger(__name__)

# Publishing gives up quickly when the broker is down: the caller falls back (runs the work
# in-process, or leaves a pending row that a beat job re-sends) instead of hanging a request.
PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

DEFAULT_SOFT_TIME_LIMIT = 120
DEFAULT_TIME_LIMIT = 180


def desk_task(
    name: str,
    *,
    soft_time_limit: int = DEFAULT_SOFT_TIME_LIMIT,
    time_limit: int = DEFAULT_TIME_LIMIT,
    **options: Any,
) -> Callable[[Callable[..., Any]], Any]:
    """Declare a Celery task with the desk's defaults; `name` is required and stable."""
    if not name or "." not in name:
        raise ValueError("desk_task needs a stable dotted name, e.g. 'sla.sweep'")
    if soft_time_limit >= time_limit:
        raise ValueError("soft_time_limit must be below time_limit")

    def decorator(function: Callable[..., Any]) -> Any:
        return shared_task(
            name=name,
            acks_late=True,
            reject_on_worker_lost=True,
            soft_time_limit=soft_time_limit,
            time_limit=time_limit,
            **options,
        )(function)

    return decorator


def enqueue(task: Any, *args: Any, **kwargs: Any) -> bool:
    """Send `task(*args, **kwargs)` to the broker; False when it cannot be reached (logged once
    per outage, servicedesk.redis_outage).

    Never raises: it runs after a commit, where an exception would turn a stored change into an
    error page. Callers keep their own record of what is still due.
    """
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except UNREACHABLE as exc:
        redis_outage.failed("publishes", exc)  # one warning per outage, not a traceback each
        return False
    except Exception:
        logger.exception("could not send %s to the broker", getattr(task, "name", task))
        return False
    redis_outage.succeeded()
    return True


def enqueue_by_name(name: str, *args: Any, **kwargs: Any) -> bool:
    """`enqueue` for a task named by its stable name: a module that a task module imports
    can send that task without importing it back (no import cycle)."""
    from importlib import import_module

    from celery import current_app

    # The task itself, with its options (ignore_result among them: a publish must not
    # subscribe to a result channel). Task names are "<app>.<job>", declared in <app>/tasks.py.
    if name not in current_app.tasks:
        import_module(f"{name.split('.', 1)[0]}.tasks")
    return enqueue(current_app.tasks[name], *args, **kwargs)
