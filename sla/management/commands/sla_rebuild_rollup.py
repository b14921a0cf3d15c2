"""`manage.py sla_rebuild_rollup`: recount the SLA dashboard's record of decided clocks and its
per-day sums from every timer row (an existing desk, a changed TIME_ZONE, rows edited by hand).

The reactions and the sweep keep the record current; this is the repair and the backfill.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from sla.services import sla_decisions_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the SLA dashboard's record of decided clocks (met or breached) and its "
        "per-day sums from the timers; running it again gives the same rows."
    )

    def handle(self, *args, **options):
        decided = sla_decisions_rebuild()
        self.stdout.write(f"{decided} decided clocks recounted.")
