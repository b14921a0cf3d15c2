"""Audit entries of the feedback app, written on the ticket's own append-only operation log
(`tickets.events.event_record`) in the same transaction as the change:

- `feedback.rated` (`tickets.choices.EventKind.SURVEY`, public): the requester's rating;
- `feedback.return_visit` (internal): a return-visit call and its outcome;
- `feedback.inspected` (internal): an inspection scored.

The two internal kinds are not in `tickets.choices.EventKind` (the ticket core's file); the
timeline shows their kind until the core gives them a label.
"""

RATED = "feedback.rated"
RETURN_VISIT = "feedback.return_visit"
INSPECTED = "feedback.inspected"
