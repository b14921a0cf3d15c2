"""Audit entries of the feedback app. Ratings, calls and scores are written on the ticket's own
append-only operation log (`tickets.events.event_record`, kind `feedback.rated`, with `field`
rating / return_visit / inspection); visits and inspections are internal entries."""

FIELDS = ("rating", "return_visit", "inspection")
