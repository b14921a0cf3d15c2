"""The Celery application. Broker and result backend are the desk's Redis (REDIS_URL)."""

import gc
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.local")

app = Celery("servicedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Allocations between two young-generation collections (Python's default is 700).
GC_YOUNG_THRESHOLD = 20_000


@worker_process_init.connect
def _settle_garbage_collector(**_kwargs) -> None:
    """In each worker process: the objects of the loaded application (Django, the URLconf,
    the translations) are never garbage, so they are frozen out of the collector's scans, and
    young collections wait for more allocations. A batch task (an SLA sweep chunk builds
    ~16,000 model instances) otherwise spent 12 % of its CPU in ~370 collections per 1,000
    breaches; now ~3 % (issue #10)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


@task_prerun.connect
@task_postrun.connect
def _database_connections_as_for_a_request(sender=None, **_kwargs) -> None:
    """Around each task, what Django does around each web request: a connection that failed
    or outlived CONN_MAX_AGE is closed, a good one is kept (and health-checked before its next
    use). Celery's own Django fix-up closed every connection before and after every task
    unless CELERY_DB_REUSE_MAX is set (settings): an SLA bench of 10,000 breaches opened ~350
    PostgreSQL sessions, each a new backend process to fork and warm up (issue #10)."""
    if getattr(sender.request, "is_eager", False):
        return  # run in the caller's process and transaction (tests, `.apply()`): not a task's
    from django.db import close_old_connections

    close_old_connections()
