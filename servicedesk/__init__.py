"""Project package: settings, URLs, the Celery app and the few base pieces every app shares."""

from .celery import app as celery_app

__all__ = ["celery_app"]
