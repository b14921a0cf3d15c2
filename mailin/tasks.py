"""Beat scans the mailboxes that are due and polls each in its own task."""

from __future__ import annotations

import contextlib
import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from servicedesk.tasks import desk_task, enqueue

from .models import Mailbox
from .services import mailbox_claim_due

POLL_TIME_LIMIT = 600

logger = logging.getLogger(__name__)


@desk_task("mailin.poll_mailboxes", soft_time_limit=50, time_limit=60)
def poll_mailboxes() -> list[int]:
    """Send a poll for each active mailbox whose next poll is due (a failing one waits out its
    back-off). Claiming moves the next poll on first, so running this twice sends nothing more."""
    now = timezone.now()
    due = Mailbox.objects.filter(is_active=True).filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    )
    sent = []
    for mailbox_id in due.values_list("pk", flat=True):
        if mailbox_claim_due(mailbox_id=mailbox_id, now=now):
            enqueue(poll_mailbox, mailbox_id)
            sent.append(mailbox_id)
    return sent


@desk_task("mailin.poll_mailbox", soft_time_limit=POLL_TIME_LIMIT - 60, time_limit=POLL_TIME_LIMIT)
def poll_mailbox(mailbox_id: int) -> dict:
    """Poll one mailbox. One poller per mailbox at a time (a Redis lock), only to save work:
    correctness under two pollers comes from the unique message key."""
    from .imap import poll_mailbox as poll

    lock, token = f"mailin:poll:{mailbox_id}", secrets.token_hex(8)
    try:
        if not cache.add(lock, token, timeout=POLL_TIME_LIMIT):
            return {"skipped": "another poll is running"}
    except Exception:  # Redis unreachable: poll anyway, the database keeps it exactly-once
        logger.warning("no poll lock for mailbox %s: Redis unreachable", mailbox_id)
    try:
        mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
        if mailbox is None:
            return {"skipped": "inactive"}
        # A backlog is taken over several polls, each well inside the task's time limit.
        result = poll(mailbox, limit=settings.MAILIN["MAX_PER_POLL"])
        return {"fetched": result.fetched, "taken": result.taken, "error": result.error}
    finally:
        with contextlib.suppress(Exception):
            if cache.get(lock) == token:
                cache.delete(lock)
