"""`/metrics` at the site root, included by the root URLconf by its dotted path."""

from .urls import metrics_urlpatterns as urlpatterns  # noqa: F401
