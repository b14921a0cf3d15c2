"""Reading the reports from a PostgreSQL replica when `REPORTS_DATABASE_URL` is set.

The read model (facts, rollups, spikes, repeated problems) is read through the `reports`
alias; everything is written to, and migrated on, the primary. Unset, the alias does not
exist and the reports read the primary like the rest of the desk.
"""

from __future__ import annotations

from django.conf import settings

REPLICA = "reports"


def reports_db() -> str:
    """The database alias report queries read from."""
    return REPLICA if REPLICA in settings.DATABASES else "default"


class ReportsReplicaRouter:
    """Reads of the reports app's models go to the replica; nothing else changes."""

    def db_for_read(self, model, **hints):
        if model._meta.app_label == "reports":
            return reports_db()
        return None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema by replication, never by migrations.
        return False if db == REPLICA else None
