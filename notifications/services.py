"""Creating and delivering notifications.

`notify()` / `notify_many()` store one row per recipient and channel (inbox, e-mail) and per
chat webhook, inserted with ON CONFLICT DO NOTHING on the dedupe key: telling someone the same
thing twice is impossible by construction. Inbox rows are delivered when stored; e-mail and
webhook rows are delivered after commit by Celery (`notifications.deliver_batch`), each row on
its own, so a failing channel never blocks another; a failed row is retried with exponential
backoff (`notifications.deliver`) until `MAX_ATTEMPTS`, then marked failed.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from servicedesk.outbound import open_url

from .choices import Channel, DeliveryStatus, WebhookKind
from .models import Notification, WebhookEndpoint

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
WEBHOOK_TIMEOUT = 5
DELIVERY_CHUNK = 100
# Capabilities that make a user desk staff: only they may receive internal notifications
# (an internal note's text, SLA escalations). Requesters never do.
STAFF_CAPABILITIES = ("handle_tickets", "view_reports", "configure_desk")


@dataclass
class NotificationSpec:
    """One message to send: to `recipients` (inbox, and e-mail when they have an address) and
    to the chat webhooks of `team_id` (or the desk-wide webhooks when it is None)."""

    dedupe_key: str
    recipients: Sequence[User | None]
    subject: str
    body: str
    url: str = ""
    team_id: int | None = None
    channels: tuple[str, ...] = (Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK)
    internal: bool = True
    extra: dict = field(default_factory=dict)


def notify(
    *,
    recipients: Iterable[User | None],
    subject: str,
    body: str,
    dedupe_key: str,
    url: str = "",
    team_id: int | None = None,
    channels: tuple[str, ...] = (Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK),
    internal: bool = True,
) -> list[int]:
    """Store a notification for each recipient and channel; return the ids inserted now.

    Guards: with `internal=True` (the default) recipients who are not desk staff are dropped,
    so a requester never receives internal text. Side effects after commit: delivery tasks.
    """
    return notify_many(
        [
            NotificationSpec(
                dedupe_key=dedupe_key,
                recipients=list(recipients),
                subject=subject,
                body=body,
                url=url,
                team_id=team_id,
                channels=channels,
                internal=internal,
            )
        ]
    )


def _staff_ids(user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        User.objects.filter(pk__in=user_ids, is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__codename__in=STAFF_CAPABILITIES)
            | Q(user_permissions__codename__in=STAFF_CAPABILITIES)
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def _webhooks(specs: Sequence[NotificationSpec]) -> dict[int | None, list[WebhookEndpoint]]:
    wanted = [s for s in specs if Channel.WEBHOOK in s.channels]
    if not wanted:
        return {}
    team_ids = {s.team_id for s in wanted if s.team_id is not None}
    endpoints = WebhookEndpoint.objects.filter(is_active=True).filter(
        Q(team_id__in=team_ids) | Q(team__isnull=True)
    )
    result: dict[int | None, list[WebhookEndpoint]] = {}
    for endpoint in endpoints:
        result.setdefault(endpoint.team_id, []).append(endpoint)
    return result


_INSERT = """
INSERT INTO notifications_notification
    (recipient_id, channel, webhook_id, target, subject, body, url, dedupe_key, status,
     attempts, last_error, created_at, sent_at, read_at)
VALUES %s
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, channel
"""


def notify_many(specs: Sequence[NotificationSpec]) -> list[int]:
    """Store many notifications in one statement per 1,000 rows (see `notify`)."""
    if not specs:
        return []
    from psycopg2.extras import execute_values

    now = timezone.now()
    internal_users = {
        user.pk for spec in specs if spec.internal for user in spec.recipients if user
    }
    staff = _staff_ids(internal_users)
    webhooks = _webhooks(specs)
    rows: list[tuple] = []
    for spec in specs:
        subject = spec.subject[:200]
        seen: set[int] = set()
        for user in spec.recipients:
            if user is None or user.pk in seen or (spec.internal and user.pk not in staff):
                continue
            seen.add(user.pk)
            if Channel.INBOX in spec.channels:
                key = f"{spec.dedupe_key}:inbox:{user.pk}"
                rows.append(
                    (user.pk, Channel.INBOX, None, "", subject, spec.body, spec.url, key,
                     DeliveryStatus.SENT, 0, "", now, now, None)
                )  # fmt: skip
            if Channel.EMAIL in spec.channels and user.email:
                key = f"{spec.dedupe_key}:email:{user.pk}"
                rows.append(
                    (user.pk, Channel.EMAIL, None, user.email, subject, spec.body, spec.url, key,
                     DeliveryStatus.PENDING, 0, "", now, None, None)
                )  # fmt: skip
        if Channel.WEBHOOK in spec.channels:
            for endpoint in webhooks.get(spec.team_id, []):
                key = f"{spec.dedupe_key}:webhook:{endpoint.pk}"
                rows.append(
                    (None, Channel.WEBHOOK, endpoint.pk, endpoint.url, subject, spec.body,
                     spec.url, key, DeliveryStatus.PENDING, 0, "", now, None, None)
                )  # fmt: skip
    inserted: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            inserted += execute_values(
                cursor.cursor if hasattr(cursor, "cursor") else cursor,
                _INSERT,
                rows[start : start + 1000],
                page_size=1000,
                fetch=True,
            )
    to_deliver = [pk for pk, channel in inserted if channel != Channel.INBOX]
    if to_deliver:
        transaction.on_commit(lambda: _enqueue(to_deliver))
    return [pk for pk, _channel in inserted]


def _enqueue(ids: list[int]) -> None:
    from servicedesk.tasks import enqueue

    from .tasks import deliver_batch

    # A broker that is down leaves the rows pending; `notifications.redeliver_stale` re-sends.
    for start in range(0, len(ids), DELIVERY_CHUNK):
        enqueue(deliver_batch, ids[start : start + DELIVERY_CHUNK])


# --- delivery ---------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A channel refused or failed to take a message."""


def webhook_payload(kind: str, subject: str, body: str, url: str) -> dict:
    """The JSON each chat tool's incoming webhook expects."""
    text = f"{subject}\n{body}" + (f"\n{url}" if url else "")
    if kind == WebhookKind.WECOM:
        return {"msgtype": "text", "text": {"content": text}}
    if kind == WebhookKind.DINGTALK:
        return {"msgtype": "text", "text": {"content": text}}
    if kind == WebhookKind.FEISHU:
        return {"msg_type": "text", "content": {"text": text}}
    return {"text": text}


def _post_webhook(notification: Notification) -> None:
    kind = notification.webhook.kind if notification.webhook else WebhookKind.SLACK
    payload = webhook_payload(kind, notification.subject, notification.body, notification.url)
    if not notification.target.startswith(("http://", "https://")):
        raise DeliveryError("webhook URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        notification.target,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        # http(s) only, no redirects, no link-local or metadata address (servicedesk/outbound).
        with open_url(request, timeout=WEBHOOK_TIMEOUT) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(str(exc)) from exc
    # WeCom and DingTalk answer 200 with {"errcode": n}; Feishu with {"code": n}.
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return
    if isinstance(answer, dict):
        code = answer.get("errcode", answer.get("code", 0))
        if code not in (0, None):
            raise DeliveryError(f"refused: {str(answer)[:200]}")


def _email(notification: Notification) -> EmailMessage:
    body = notification.body + (f"\n\n{notification.url}" if notification.url else "")
    return EmailMessage(
        subject=notification.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.target],
    )


@transaction.atomic
def notifications_deliver(*, notification_ids: Sequence[int]) -> list[int]:
    """Deliver the pending notifications among `notification_ids`; return those that failed
    and should be retried.

    Rows another worker is delivering are skipped (skip_locked); sent or failed rows are left
    alone, so a redelivered task sends nothing twice. Each row succeeds or fails on its own.
    """
    rows = list(
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=list(notification_ids), status=DeliveryStatus.PENDING)
        .select_related("webhook")
        .order_by("id")
    )
    if not rows:
        return []
    now = timezone.now()
    retry: list[int] = []
    mail_connection = None
    for row in rows:
        row.attempts += 1
        try:
            if row.channel == Channel.EMAIL:
                if mail_connection is None:
                    mail_connection = get_connection(fail_silently=False)
                    mail_connection.open()
                if mail_connection.send_messages([_email(row)]) != 1:
                    raise DeliveryError("the mail server did not accept the message")
            elif row.channel == Channel.WEBHOOK:
                _post_webhook(row)
            row.status, row.sent_at, row.last_error = DeliveryStatus.SENT, now, ""
        except Exception as exc:  # any channel failure: record it, never stop the others
            logger.warning("notification %s (%s) failed: %s", row.pk, row.channel, exc)
            row.last_error = str(exc)[:2000] or exc.__class__.__name__
            if row.attempts >= MAX_ATTEMPTS:
                row.status = DeliveryStatus.FAILED
            else:
                retry.append(row.pk)
    if mail_connection is not None:
        try:
            mail_connection.close()
        except Exception:  # closing a broken SMTP session must not undo the bookkeeping
            logger.warning("closing the mail connection failed", exc_info=True)
    # The delivered rows share their new values: one UPDATE for all of them (a per-row CASE
    # over a batch costs more than the sending); failures, rare, row by row.
    sent = [row.pk for row in rows if row.status == DeliveryStatus.SENT]
    if sent:
        Notification.objects.filter(pk__in=sent).update(
            status=DeliveryStatus.SENT, sent_at=now, last_error="", attempts=F("attempts") + 1
        )
    for row in rows:
        if row.status != DeliveryStatus.SENT:
            row.save(update_fields=["attempts", "status", "last_error"])
    return retry


STALE_AFTER = timedelta(minutes=5)


def stale_pending_ids(*, limit: int = 5_000) -> list[int]:
    """Ids of e-mail and webhook rows pending for longer than a normal delivery (and its first
    retries) takes, oldest first, through the partial index on pending rows."""
    cutoff = timezone.now() - STALE_AFTER
    return list(
        Notification.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=cutoff)
        .exclude(channel=Channel.INBOX)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def notification_mark_read(*, viewer: User, notification_id: int | None = None) -> int:
    """Mark one of the viewer's inbox notifications read (or all of them); returns how many
    changed. Someone else's notification is a PermissionDenied."""
    inbox = Notification.objects.filter(
        recipient=viewer, channel=Channel.INBOX, read_at__isnull=True
    )
    if notification_id is not None:
        if not Notification.objects.filter(
            pk=notification_id, recipient=viewer, channel=Channel.INBOX
        ).exists():
            raise PermissionDenied
        inbox = inbox.filter(pk=notification_id)
    return inbox.update(read_at=timezone.now())
