"""`manage.py sla_rebuild_rollup`: recount the SLA dashboard's derived records from every timer
row (an existing desk, a changed TIME_ZONE, rows edited by hand): the record of decided clocks
and its per-day sums, and the summary of breached and at-risk open tickets.

The reactions and the sweep keep both current; this is the repair and the backfill.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from sla.services import sla_decisions_rebuild, sla_summary_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the SLA dashboard's record of decided clocks (met or breached) with its "
        "per-day sums, and its summary of breached and at-risk open tickets, from the timers; "
        "running it again gives the same rows."
    )

    def handle(self, *args, **options):
        decided = sla_decisions_rebuild()
        self.stdout.write(f"{decided} decided clocks recounted.")
        flagged = sla_summary_rebuild()
        self.stdout.write(f"{flagged} breached or at-risk open tickets summarised.")
