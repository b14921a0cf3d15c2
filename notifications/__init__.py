"""Notifications: the in-app inbox, e-mail and chat webhooks (WeCom, DingTalk, Feishu, Slack).

Its own app because telling people things is a concern of its own, shared by every domain app
(the SLA engine warns and escalates through it today; the portal, surveys and knowledge reviews
will use it later) and independent of any of them: it knows users, channels, delivery and
retries, not tickets. Every message is a stored `Notification` row with a dedupe key, so a job
that runs twice never tells anyone twice, and delivery happens after commit in Celery, with
retries and backoff per record, so a failing channel never blocks another.
"""
