"""Service levels: business calendars, SLA policies, timers as rows, the sweep, escalation."""
