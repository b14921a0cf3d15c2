"""Sending stored notifications: e-mail (threaded per ticket) and chat webhooks.

Each row is sent in its own short transaction (lock it, skipping rows another worker holds;
send; record), so a slow or hung channel delays only itself and a crash loses no bookkeeping
of the rows already sent. A failure is tried again with backoff — 30 s, 1 min, 2 min … at most
an hour apart, `MAX_ATTEMPTS` times (about nine hours in all) — by the beat job
`notifications.deliver_due`; after the last attempt the row is failed (parked) where an
administrator sees it and can send it again. Delivery runs on its own Celery queue
(`delivery`), so a mail server that hangs never delays intake or the SLA sweep.

Mail threading: every message about ticket N carries `In-Reply-To`/`References: <N@DOMAIN>`,
the first ("we received your request") has that very `Message-ID`, the others
`<N.nID@DOMAIN>`; so a mail client shows one conversation per ticket, and the mail channel
recognises replies by the domain (`SERVICEDESK["MAIL_DOMAIN"]`).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from servicedesk.outbound import open_url

from .choices import Channel, DeliveryStatus, WebhookKind
from .kinds import KINDS, absolute, render, ticket_link
from .models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
WEBHOOK_TIMEOUT = 5
RECEIPT_KIND = "ticket.received"
# Above the text of every mail about a ticket: the mail channel cuts a reply there (the same
# words as `mailin.strip.REPLY_MARKER`; a test keeps them equal). Bilingual on purpose: it
# must be recognised whatever language the mail was written in.
REPLY_MARKER = "-- Reply above this line / 请在此行上方回复 --"


class DeliveryError(Exception):
    """A channel refused or failed to take a message."""


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure (the first wait is configurable:
    `NOTIFICATION_RETRY_SECONDS`)."""
    first = timedelta(
        seconds=settings.SERVICEDESK.get("NOTIFICATION_RETRY_SECONDS", FIRST_BACKOFF.seconds)
    )
    return min(first * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def mail_domain() -> str:
    configured = settings.SERVICEDESK.get("MAIL_DOMAIN", "")
    return configured or settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"


def thread_id(number: str) -> str:
    """The Message-ID every mail about ticket `number` refers to."""
    return f"<{number}@{mail_domain()}>"


def _one_line(value: str) -> str:
    """Header values never carry CR/LF from text someone typed (header injection)."""
    return " ".join(str(value).split())


# --- what a row says ---------------------------------------------------------------------------


def content(
    row: Notification, language: str | None, *, absolute_link: bool = True
) -> tuple[str, str, str]:
    """(subject, text, link) of a row in `language`; the link is absolute (PUBLIC_BASE_URL)
    for mail and chat, a path for the desk's own pages."""
    if row.kind:
        subject, body = render(row.kind, row.params, language)
        spec = KINDS.get(row.kind)
        number = row.params.get("number", "")
        if spec and spec.link_param and row.params.get(spec.link_param):
            return subject, body, row.params[spec.link_param]
        if spec and number:
            path = ticket_link(number, for_requester=spec.for_requester)
            return subject, body, absolute(path) if absolute_link else path
        return subject, body, row.url
    return row.subject, row.body, row.url


def email_message(row: Notification, *, language: str | None = None) -> EmailMultiAlternatives:
    """The e-mail of a row: in the recipient's language (or `language`, for previews such as
    the screenshots), plain text plus escaped HTML, the ticket number in the subject, threaded,
    marked as automatic so auto-responders stay quiet."""
    recipient = row.recipient
    if language is None:
        language = recipient.preferred_language() if recipient else settings.LANGUAGE_CODE
    subject, text, link = content(row, language)
    spec = KINDS.get(row.kind)
    context = {
        "subject": subject,
        "text": text,
        "link": link,
        "kind": row.kind,
        "number": row.params.get("number", ""),
        "for_requester": bool(spec and spec.for_requester),
        "recipient": recipient,
        "reply_marker": REPLY_MARKER,
    }
    with override(language):
        plain = render_to_string("notifications/email/message.txt", context)
        html = render_to_string("notifications/email/message.html", context)
    number = row.params.get("number") or (row.ticket.number if row.ticket_id else "")
    headers = {
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-Servicedesk-Origin": mail_domain(),
    }
    if number:
        root = thread_id(number)
        own = root if row.kind == RECEIPT_KIND else f"<{number}.n{row.pk}@{mail_domain()}>"
        headers.update({"Message-ID": own, "In-Reply-To": root, "References": root})
    else:
        headers["Message-ID"] = make_msgid(domain=mail_domain())
    message = EmailMultiAlternatives(
        subject=_one_line(subject)[:250],
        body=plain,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.target],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


# --- webhooks ----------------------------------------------------------------------------------


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


def _post_webhook(row: Notification) -> None:
    kind = row.webhook.kind if row.webhook else WebhookKind.SLACK
    subject, body, link = content(row, settings.LANGUAGE_CODE)
    payload = webhook_payload(kind, subject, body, link)
    request = urllib.request.Request(  # noqa: S310 (open_url checks scheme and address)
        row.target,
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


# --- the delivery loop -------------------------------------------------------------------------


class _Mail:
    """One SMTP connection per batch, opened on first use, with the desk's short timeout."""

    def __init__(self) -> None:
        self.connection = None

    def send(self, message: EmailMultiAlternatives) -> None:
        if self.connection is None:
            self.connection = get_connection(fail_silently=False)
            self.connection.open()
        if self.connection.send_messages([message]) != 1:
            raise DeliveryError("the mail server did not accept the message")

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # closing a broken SMTP session must not undo the bookkeeping
                logger.warning("closing the mail connection failed", exc_info=True)
            self.connection = None


def _deliver_one(notification_id: int, mail: _Mail, now: datetime) -> str | None:
    """Send one row if it is still due; returns its new status (None: nothing to do)."""
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=notification_id, status=DeliveryStatus.PENDING)
            .select_related("webhook", "recipient", "ticket")
            .first()
        )
        if row is None or (row.next_attempt_at is not None and row.next_attempt_at > now):
            return None
        row.attempts += 1
        try:
            if row.channel == Channel.EMAIL:
                mail.send(email_message(row))
            elif row.channel == Channel.WEBHOOK:
                _post_webhook(row)
            row.status, row.sent_at, row.last_error, row.next_attempt_at = (
                DeliveryStatus.SENT,
                now,
                "",
                None,
            )
        except Exception as exc:  # any channel failure: record it, never stop the others
            logger.warning("notification %s (%s) failed: %s", row.pk, row.channel, exc)
            mail.close()  # a broken session is not reused for the next row
            row.last_error = str(exc)[:2000] or exc.__class__.__name__
            if row.attempts >= MAX_ATTEMPTS:
                row.status, row.next_attempt_at = DeliveryStatus.FAILED, None
            else:
                row.next_attempt_at = now + backoff(row.attempts)
        row.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
        return row.status


def notifications_deliver(*, notification_ids: Sequence[int]) -> list[int]:
    """Deliver the due pending rows among `notification_ids`, each in its own transaction;
    return those that failed and wait for another attempt. Sent and failed rows, and rows
    another worker holds, are left alone: a redelivered task sends nothing twice."""
    mail = _Mail()
    retrying = []
    try:
        for notification_id in sorted(notification_ids):
            status = _deliver_one(notification_id, mail, timezone.now())
            if status == DeliveryStatus.PENDING:
                retrying.append(notification_id)
    finally:
        mail.close()
    return retrying


STALE_AFTER = timedelta(minutes=5)


def due_ids(*, limit: int = 5_000) -> list[int]:
    """E-mail and webhook rows due for a (new) attempt, oldest first: failed attempts whose
    backoff ended, and first deliveries whose message was lost (the broker was down, a worker
    died) a while after they were stored. Both through partial indexes on pending rows."""
    now = timezone.now()
    retries = list(
        Notification.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__isnull=False, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    lost = list(
        Notification.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__isnull=True,
            created_at__lt=now - STALE_AFTER,
        )
        .exclude(channel=Channel.INBOX)
        .order_by("created_at")
        .values_list("pk", flat=True)[: max(limit - len(retries), 0)]
    )
    return retries + lost
