"""Fixtures of the feedback tests."""

from __future__ import annotations

import pytest

from servicedesk.celery import app


@pytest.fixture(autouse=True)
def eager_celery(request):
    """Run tasks inline: `.delay()` after commit executes at once, retries included (their
    countdown is ignored in eager mode). Tests marked `worker` use a real worker instead."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    old = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old
