"""Every write to a ticket goes through these services.

Each service checks permission and guards first, then changes the ticket (through the state
machine where the status moves), then writes the operation log, all in one transaction; side
effects (reactions of other apps, notifications) run after commit via `tickets.reactions`.
`actor=None` means the desk itself (routing, the SLA engine, integrations' system user).

The package is split along its seams; callers import from `tickets.services`:
- `creation`: taking a ticket in (`ticket_create`);
- `lifecycle`: the transitions and hand-overs;
- `escalation`: the SLA sweep's bulk escalation, and the bulk assignment after it;
- `intake_routing`: automatic routing of an intake batch (bulk);
- `conversation`: replies and internal notes;
- `attachments`: files;
- `following`: watchers of a ticket;
- `system_moves`: the desk's own moves for alerts and major incidents (bulk);
- `common`: what they share (lock, version check, one transition with its log).
"""

from .attachments import (
    ATTACHMENT_NAME_MAX_LENGTH,
    ATTACHMENT_TYPES,
    attachment_add,
    attachment_clean_filename,
)
from .common import available_transitions, ticket_check_unchanged, ticket_etag
from .conversation import comment_add
from .creation import external_ref_for_key, ticket_create, ticket_create_many
from .escalation import (
    EscalationMove,
    EscalationMoved,
    EscalationOutcome,
    QueueAssignment,
    ticket_assign_queued_many,
    ticket_escalate_many,
)
from .following import ticket_follow, ticket_unfollow
from .intake_routing import IntakeMove, lock_new_tickets, ticket_route_new_many
from .lifecycle import (
    ticket_assign,
    ticket_auto_close,
    ticket_cancel,
    ticket_classify,
    ticket_confirm,
    ticket_dispatch,
    ticket_link_incident,
    ticket_merge,
    ticket_reject,
    ticket_reopen,
    ticket_resolve,
    ticket_resolve_linked,
    ticket_resume,
    ticket_route,
    ticket_send_to_triage,
    ticket_set_priority,
    ticket_suspend,
    ticket_take,
    ticket_verify,
)
from .system_moves import (
    taken_by_an_agent,
    ticket_resolve_cleared,
    ticket_resolve_incident,
    tickets_link_incident_many,
    tickets_resolve_linked_many,
)

__all__ = [
    "ATTACHMENT_NAME_MAX_LENGTH",
    "ATTACHMENT_TYPES",
    "EscalationMove",
    "EscalationMoved",
    "EscalationOutcome",
    "IntakeMove",
    "QueueAssignment",
    "attachment_add",
    "attachment_clean_filename",
    "available_transitions",
    "comment_add",
    "external_ref_for_key",
    "lock_new_tickets",
    "taken_by_an_agent",
    "ticket_assign",
    "ticket_assign_queued_many",
    "ticket_auto_close",
    "ticket_cancel",
    "ticket_check_unchanged",
    "ticket_classify",
    "ticket_confirm",
    "ticket_create",
    "ticket_create_many",
    "ticket_dispatch",
    "ticket_escalate_many",
    "ticket_etag",
    "ticket_follow",
    "ticket_link_incident",
    "ticket_merge",
    "ticket_reject",
    "ticket_reopen",
    "ticket_resolve",
    "ticket_resolve_cleared",
    "ticket_resolve_incident",
    "ticket_resolve_linked",
    "ticket_resume",
    "ticket_route",
    "ticket_route_new_many",
    "ticket_send_to_triage",
    "ticket_set_priority",
    "ticket_suspend",
    "ticket_take",
    "ticket_unfollow",
    "ticket_verify",
    "tickets_link_incident_many",
    "tickets_resolve_linked_many",
]
