"""Sending stored notifications: e-mail (threaded per ticket) and chat webhooks.

A batch is sent a slice at a time (`DELIVERY_SLICE` rows), each slice in one short
transaction: its rows locked and loaded in one query (skipping rows another worker holds),
sent over the batch's one SMTP connection, and recorded in one UPDATE; a crash loses the
bookkeeping of one slice at most. An e-mail's text is rendered once per kind, parameters
and language and reused for every recipient of it (only the greeting names the reader);
its MIME form is written directly, byte for byte what Django would write (`notifications.mime`).
When the mail server cannot be reached, the slice's other e-mails are recorded as the same
failed attempt instead of each waiting out the timeout. A failure is tried again with
backoff — 30 s, 1 min, 2 min … at most an hour apart, `MAX_ATTEMPTS` times (about nine
hours in all) — by the beat job `notifications.deliver_due`; after the last attempt the
row is failed (parked) where an administrator sees it and can send it again. Delivery runs
on its own Celery queue (`delivery`), so a mail server that hangs never delays intake or
the SLA sweep.

Mail threading: every message about ticket N carries `In-Reply-To`/`References: <N@DOMAIN>`,
the first ("we received your request") has that very `Message-ID`, the others
`<N.nID@DOMAIN>`; so a mail client shows one conversation per ticket, and the mail channel
recognises replies by the domain (`SERVICEDESK["MAIL_DOMAIN"]`).
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.translation import override

from servicedesk.outbound import open_url

from .choices import Channel, DeliveryStatus, WebhookKind
from .kinds import KINDS, absolute, render, ticket_link
from .mime import NotificationEmail
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
    return _Renderer().email(row, language=language)


# Stand for the variable parts while an e-mail's layout is rendered once for all the mails
# of the same shape (characters of Unicode's private use area: never in what people type).
_SLOT = {"name": "\ue000", "subject": "\ue001", "text": "\ue002", "link": "\ue003"}
_SLOTS = re.compile("[\ue000-\ue003]")


class _Renderer:
    """E-mails of a batch. The templates are rendered once per shape (the template's own
    conditions: kind, audience, a ticket number, a link, a named reader; and the language),
    with placeholders that each mail's subject, text, link and reader's name then replace,
    escaped as the template escapes them (`linebreaksbr` for the HTML text): the same
    output as a render per row, for a fraction of its cost. Each (kind, parameters,
    language) is worded once for all its recipients."""

    def __init__(self) -> None:
        self._layouts: dict[tuple, tuple[str, str]] = {}
        self._contents: dict[tuple, tuple[str, str, str]] = {}

    def _content(self, row: Notification, language: str) -> tuple[str, str, str]:
        params = json.dumps(row.params, sort_keys=True, default=str)
        key = (row.kind, params, row.subject, row.body, row.url, language)
        if key not in self._contents:
            self._contents[key] = content(row, language)
        return self._contents[key]

    def _layout(self, row: Notification, language: str, *, link: bool, named: bool):
        spec = KINDS.get(row.kind)
        for_requester = bool(spec and spec.for_requester)
        number = bool(row.params.get("number", ""))
        # The kind is part of the shape: the templates word some kinds' links themselves (the
        # confirmation request, the survey), and a batch holds few kinds.
        kind = row.kind
        key = (kind, for_requester, number, link, named, language)
        if key not in self._layouts:
            context = {
                "subject": _SLOT["subject"],
                "text": _SLOT["text"],
                "link": _SLOT["link"] if link else "",
                "kind": kind,
                "number": "n" if number else "",
                "for_requester": for_requester,
                "recipient": _SLOT["name"] if named else None,
                "reply_marker": REPLY_MARKER,
            }
            with override(language):
                self._layouts[key] = (
                    render_to_string("notifications/email/message.txt", context),
                    render_to_string("notifications/email/message.html", context),
                )
        return self._layouts[key]

    def texts(self, row: Notification, language: str) -> tuple[str, str, str]:
        """(subject, plain text, HTML) of a row's e-mail in `language`."""
        subject, text, link = self._content(row, language)
        recipient = row.recipient
        plain, html = self._layout(row, language, link=bool(link), named=bool(recipient))
        name = str(recipient) if recipient else ""
        raw = {_SLOT["name"]: name, _SLOT["subject"]: subject, _SLOT["text"]: text}
        raw[_SLOT["link"]] = link
        escaped = {key: conditional_escape(value) for key, value in raw.items()}
        escaped[_SLOT["text"]] = linebreaksbr(text, autoescape=True)
        # One pass each, so a placeholder character inside a substituted value stays as is.
        plain = _SLOTS.sub(lambda match: raw[match.group()], plain)
        html = _SLOTS.sub(lambda match: escaped[match.group()], html)
        return subject, plain, html

    def email(self, row: Notification, *, language: str | None = None) -> EmailMultiAlternatives:
        recipient = row.recipient
        if language is None:
            language = recipient.preferred_language() if recipient else settings.LANGUAGE_CODE
        subject, plain, html = self.texts(row, language)
        number = row.params.get("number") or (
            getattr(row, "ticket_number", None) or (row.ticket.number if row.ticket_id else "")
        )
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
        message = NotificationEmail(
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


class MailServerUnreachable(DeliveryError):
    """The SMTP connection could not be opened: every e-mail of the slice would fail alike."""


class _Mail:
    """One SMTP connection per batch, opened on first use, with the desk's short timeout."""

    def __init__(self) -> None:
        self.connection = None

    def send(self, message: EmailMultiAlternatives) -> None:
        if self.connection is None:
            connection = get_connection(fail_silently=False)
            try:
                connection.open()
            except Exception as exc:
                raise MailServerUnreachable(str(exc) or exc.__class__.__name__) from exc
            self.connection = connection
        if self.connection.send_messages([message]) != 1:
            raise DeliveryError("the mail server did not accept the message")

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # closing a broken SMTP session must not undo the bookkeeping
                logger.warning("closing the mail connection failed", exc_info=True)
            self.connection = None


# Rows per transaction: a lock-and-load query and an UPDATE per slice, and a crash loses the
# bookkeeping of one slice at most (its e-mails are sent again). A slice is a whole batch as
# the desk enqueues them (`services.DELIVERY_CHUNK`): slices of 25 spent a third of a
# delivery's CPU on the four statements, the commit and their ORM work per slice (0.30 ->
# 0.19 ms per e-mail, and half the wall time, for the SLA sweep's mail; issue #10).
DELIVERY_SLICE = 100
_OUTCOME_FIELDS = ["attempts", "status", "sent_at", "last_error", "next_attempt_at"]


def _failed(row: Notification, error: str, now: datetime) -> None:
    row.last_error = error[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        row.next_attempt_at = now + backoff(row.attempts)


def _deliver_slice(
    notification_ids: Sequence[int], mail: _Mail, renderer: _Renderer, now: datetime
) -> list[int]:
    """Send the slice's rows that are still due, in one transaction; returns the ids of those
    that failed and wait for another attempt."""
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=list(notification_ids), status=DeliveryStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .select_related("webhook", "recipient")
            # The thread needs only the ticket's number (messages without a kind).
            .annotate(ticket_number=F("ticket__number"))
            .order_by("pk")
        )
        sent, failed = [], []
        unreachable = ""
        for row in rows:
            row.attempts += 1
            if unreachable and row.channel == Channel.EMAIL:
                _failed(row, unreachable, now)
                failed.append(row)
                continue
            try:
                if row.channel == Channel.EMAIL:
                    mail.send(renderer.email(row))
                elif row.channel == Channel.WEBHOOK:
                    _post_webhook(row)
                sent.append(row)
            except Exception as exc:  # any channel failure: record it, never stop the others
                logger.warning("notification %s (%s) failed: %s", row.pk, row.channel, exc)
                if row.channel == Channel.EMAIL:
                    mail.close()  # a broken session is not reused for the next row
                if isinstance(exc, MailServerUnreachable):
                    unreachable = str(exc)
                _failed(row, str(exc) or exc.__class__.__name__, now)
                failed.append(row)
        if sent:
            Notification.objects.filter(pk__in=[row.pk for row in sent]).update(
                status=DeliveryStatus.SENT,
                sent_at=now,
                last_error="",
                next_attempt_at=None,
                attempts=F("attempts") + 1,
            )
        if failed:
            Notification.objects.bulk_update(failed, _OUTCOME_FIELDS)
    return [row.pk for row in failed if row.status == DeliveryStatus.PENDING]


def notifications_deliver(*, notification_ids: Sequence[int]) -> list[int]:
    """Deliver the due pending rows among `notification_ids`, a slice at a time (one
    transaction, one locking read and one UPDATE per slice, one SMTP connection for all);
    return those that failed and wait for another attempt. Sent and failed rows, and rows
    another worker holds, are left alone: a redelivered task sends nothing twice."""
    mail = _Mail()
    renderer = _Renderer()
    retrying: list[int] = []
    ids = sorted(set(notification_ids))
    try:
        for start in range(0, len(ids), DELIVERY_SLICE):
            retrying += _deliver_slice(
                ids[start : start + DELIVERY_SLICE], mail, renderer, timezone.now()
            )
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
