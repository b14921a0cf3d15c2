"""Major incidents, their outage and recovery announcements, and the status page."""
