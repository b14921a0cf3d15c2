"""Every write of the SLA engine: timers follow the ticket, the sweep warns, breaches and
escalates.

Timers are rows (`SlaTimer`); these services keep them in step with the ticket's life (the
reactions wired in `tickets.wiring` call them after the ticket's transaction commits) and the
sweep's per-timer work marks them exactly once per level:

* lock the row (`select_for_update(skip_locked=True)`: a row another worker holds is simply
  skipped, that worker will handle it), re-check the condition in SQL, set the marker, act,
  in one transaction; deliveries go after commit. A second sweep, a task run twice or redelivered
  after a worker died (acks_late) finds the marker set and does nothing.
* per-ticket reactions serialise on a transaction-scoped advisory lock of the ticket, so two
  reactions to one ticket never interleave (without touching the ticket row itself).

Escalation calls `tickets.services.ticket_escalate_many` (the bulk form of
`ticket_dispatch(..., escalation=True, actor=None)`): the ticket core does the move and logs
it; this module logs the SLA side (`sla.*` events).

The package is split along its seams; callers import from `sla.services`: `timers` (clocks
follow the ticket), `tierspans` (OLA stints), `sweep` (warnings, breaches, escalation),
`messages` (texts), `common` (policies, calendars, timer arithmetic), `decisions` (the
dashboard's record of decided clocks) and `summary` (its breached and at-risk open tickets),
both refreshed by the reactions and the sweep.
"""

from .common import (
    _fold,
    _schedule,
    calendars_by_id,
    policy_for,
    sweep_batch_size,
    sweep_chunk_size,
)
from .decisions import sla_decisions_rebuild, sla_decisions_refresh
from .summary import sla_summary_rebuild, sla_summary_refresh
from .sweep import sla_due_timer_ids, sla_timers_process
from .tierspans import tier_span_on_assignment, tier_spans_move, tier_spans_on_assignment_many
from .timers import (
    sla_timers_on_public_reply,
    sla_timers_on_status,
    sla_timers_on_status_many,
    sla_timers_recalculate,
    sla_timers_start,
    sla_timers_start_many,
)

__all__ = [
    "_fold",
    "_schedule",
    "calendars_by_id",
    "policy_for",
    "sla_decisions_rebuild",
    "sla_decisions_refresh",
    "sla_due_timer_ids",
    "sla_summary_rebuild",
    "sla_summary_refresh",
    "sla_timers_on_public_reply",
    "sla_timers_on_status",
    "sla_timers_on_status_many",
    "sla_timers_process",
    "sla_timers_recalculate",
    "sla_timers_start",
    "sla_timers_start_many",
    "sweep_batch_size",
    "sweep_chunk_size",
    "tier_span_on_assignment",
    "tier_spans_move",
    "tier_spans_on_assignment_many",
]
