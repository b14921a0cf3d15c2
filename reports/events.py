"""Audit entries of the reports app.

Reports write no ticket log entries: they only read. Release-calendar changes are kept on the
release row itself (`created_by`, `created_at`); spikes keep `detected_at` and `notified_at`.
"""
