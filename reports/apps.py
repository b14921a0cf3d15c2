"""Reports: what managers watch (PRODUCT.md §9).

Its own app because reporting is a read model of its own: per-ticket facts and daily rollup
tables refreshed incrementally by beat from the operation log, the dashboards and exports
built on them, the Prometheus metrics, the release calendar with its spike detector, the
repeated-problem groups and the weekly summary mail. It only reads the other apps' tables
(and may read them from a replica, `REPORTS_DATABASE_URL`); nothing imports it.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import metrics

        metrics.register()
